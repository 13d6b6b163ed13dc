// The runtime API under faults: sizes past kernel memory's limit are refused with a code and
// leave the allocator usable, a detached buffer behaves as in JS, every kind of function a user
// can pass either works or gets a coded error naming it, and options of the wrong kind are coded.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { compileKernel } from '@kiln/compiler'
import { alloc, allocImageData, free, kernel, KilnError, reserveMemory } from 'kiln'
import { afterAll, describe, expect, test, vi } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const cacheDir = mkdtempSync(join(tmpdir(), 'kiln-faults-'))
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    return e instanceof KilnError ? e.message.split('\n')[0] : `not coded: ${String(e)}`
  }
  return 'no error'
}

const sum = (a: Float64Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return s
}

describe('kernel memory past its limit', () => {
  test('alloc and reserveMemory beyond 2 GiB are KILN_MEMORY_FULL, and later allocations and calls still work', async () => {
    expect(codeOf(() => alloc(Float64Array, 3e8))).toMatch(/^KILN_MEMORY_FULL: cannot allocate 2400000000 bytes/)
    expect(codeOf(() => reserveMemory(3e9))).toMatch(/^KILN_MEMORY_FULL: cannot reserve 3000000000 bytes/)
    expect(codeOf(() => alloc(Float64Array, -1))).toMatch(/^KILN_BAD_ARGUMENT/)
    expect(codeOf(() => alloc(Float64Array, 1.5))).toMatch(/^KILN_BAD_ARGUMENT/)
    // ImageData is a browser API (the playground test uses allocImageData in Chromium).
    expect(codeOf(() => allocImageData(4, 4))).toMatch(/^KILN_BAD_ARGUMENT: allocImageData: this platform has no ImageData/)
    const k = kernel(sum, { signatures: ['(f64[]) => f64'] })
    await k.ready()
    // A 2.4 GB copied array can never fit: the call runs as plain JS, with one warning.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const huge = new Float64Array(3e8)
      huge[0] = 1
      huge[2e8] = 2
      expect(k(huge)).toBe(3)
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('KILN_MEMORY_FULL'))).toHaveLength(1)
      expect(String(warn.mock.calls[0][0])).toContain('more than kernel memory can hold')
    } finally {
      warn.mockRestore()
    }
    const a = alloc(Float64Array, 1000)
    try {
      a.fill(0.5)
      expect(k(a)).toBe(500)
      expect(k(Float64Array.of(1, 2, 3))).toBe(6)
    } finally {
      free(a)
    }
  })

  test('a detached buffer reads as empty, as in JS', async () => {
    const k = kernel(sum, { signatures: ['(f64[]) => f64'] })
    await k.ready()
    expect(k.tier('(f64[])')).toBe('compiled')
    const a = Float64Array.of(1, 2, 3)
    structuredClone(a.buffer, { transfer: [a.buffer] })
    expect(a.length).toBe(0)
    expect(k(a)).toBe(sum(a))
    const fill = kernel((x: Float64Array, v: number) => { for (let i = 0; i < x.length; i++) x[i] = v }, { signatures: ['(f64[], f64) => void'] })
    await fill.ready()
    expect(() => fill(a, 2)).not.toThrow()
  })
})

describe('every kind of function a user can pass', () => {
  test('method shorthand (object and class) works, as kernel and as helper', async () => {
    const o = {
      total(a: Float64Array): number {
        let s = 0
        for (let i = 0; i < a.length; i++) s += twice(a[i])
        return s
      },
      twice(x: number): number {
        return x * 2
      },
    }
    const twice = o.twice
    class Ops {
      static scale(a: Float64Array, f: number): void {
        for (let i = 0; i < a.length; i++) a[i] *= f
      }
    }
    const k = kernel(o.total, { deps: { twice: o.twice }, signatures: ['(f64[]) => f64'] })
    await k.ready()
    expect(k.tier('(f64[])')).toBe('compiled')
    expect(k(Float64Array.of(1, 2, 3.5))).toBe(o.total(Float64Array.of(1, 2, 3.5)))
    // Anonymous function expressions and arrows are left as they are.
    const anon = kernel(function (x: number) { return x + 1 }, { signatures: ['(f64) => f64'] })
    const arrow = kernel(async0 => async0 * 2, { signatures: ['(f64) => f64'] })
    await anon.ready()
    await arrow.ready()
    expect([anon.tier('(f64)'), arrow.tier('(f64)')]).toEqual(['compiled', 'compiled'])
    expect([anon(1), arrow(3)]).toEqual([2, 6])
    const s = kernel(Ops.scale, { signatures: ['(f64[], f64) => void'] })
    await s.ready()
    const a = Float64Array.of(1, -2)
    s(a, 3)
    expect([...a]).toEqual([3, -6])
    void twice
  })

  test('bound, native and Proxy functions, and wrong options, get coded errors naming the kernel', () => {
    const f = (a: number): number => a + 1
    expect(codeOf(() => kernel(f.bind(null), { signatures: ['(f64) => f64'] }))).toMatch(/^KILN_NOT_FUNCTION: kernel bound f is a native or bound function/)
    expect(codeOf(() => kernel(Math.sqrt))).toMatch(/^KILN_NOT_FUNCTION: kernel sqrt is a native or bound function/)
    expect(codeOf(() => kernel(new Proxy(f, {})))).toMatch(/^KILN_NOT_FUNCTION: kernel f is a (Proxy|native or bound function)/)
    expect(codeOf(() => kernel(f, { deps: { g: Math.max } }))).toMatch(/^KILN_NOT_FUNCTION: kernel f: helper `g` is a native or bound function/)
    expect(codeOf(() => kernel(f, null as never))).toMatch(/^KILN_BAD_ARGUMENT: kernel f: options must be an object, got null/)
    expect(codeOf(() => kernel(f, { signatures: 5 as never }))).toMatch(/^KILN_BAD_ARGUMENT: kernel f: signatures must be an array/)
    expect(codeOf(() => kernel(f, { cache: 'yes' as never }))).toMatch(/^KILN_BAD_ARGUMENT: kernel f: cache must be true or false/)
    expect(codeOf(() => kernel(42 as never))).toMatch(/^KILN_NOT_FUNCTION/)
  })

  test('with cache: true, nothing escapes as an uncaught error after kernel() returns', () => {
    const script = `
      import { kernel } from 'kiln'
      const o = { add(a, b) { return a + b } }
      const results = []
      for (const [label, make] of [
        ['method', () => kernel(o.add, { cache: true, signatures: ['(f64, f64) => f64'] })],
        ['bound', () => kernel(o.add.bind(o), { cache: true, signatures: ['(f64, f64) => f64'] })],
        ['proxy', () => kernel(new Proxy(o.add, {}), { cache: true, signatures: ['(f64, f64) => f64'] })],
        ['getter', () => kernel(Object.getOwnPropertyDescriptor({ get x() { return 1 } }, 'x').get, { cache: true, signatures: ['(f64, f64) => f64'] })],
      ]) {
        try {
          const k = make()
          await k.ready().then(() => results.push(label + ' ' + k.tier('(f64, f64)') + ' ' + k(2, 3)), (e) => results.push(label + ' rejects ' + e.code))
        } catch (e) {
          results.push(label + ' throws ' + e.code)
        }
      }
      console.log(JSON.stringify(results))
    `
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: cacheDir } })
    expect(r.status, r.stderr).toBe(0)
    const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[]
    expect(results[0]).toBe('method compiled 5')
    expect(results[1]).toBe('bound throws KILN_NOT_FUNCTION')
    expect(results[2]).toBe('proxy throws KILN_NOT_FUNCTION')
    expect(results[3]).toMatch(/^getter (rejects|throws) KILN_/)
  })
})

describe('background compiles never keep a finished script alive', () => {
  const run = (background: boolean, thenWaited = false) => {
    const script = `
      import { CompilePool } from 'kiln/pool'
      const pool = new CompilePool(1)
      pool.compile({ source: '(a) => a[0]', signature: '(f64[]) => f64' }, { background: ${background} }).then((c) => console.log(c.result.ok ? 'compiled' : 'failed'))
      ${thenWaited ? "pool.compile({ source: '(a) => a[1]', signature: '(f64[]) => f64' }).then((c) => console.log(c.result.ok ? 'waited for' : 'failed'))" : ''}
      process.on('exit', () => console.log('exit'))
    `
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    return r.stdout.trim().split('\n')
  }
  test('a range variant compiling on a worker does not hold the process; a compile someone waits for does', () => {
    // The worker needs the compiler loaded first (about a second): a script with nothing left to do is long gone.
    expect(run(true)).toEqual(['exit'])
    expect(run(false)).toEqual(['compiled', 'exit'])
    // A compile someone waits for, queued behind a background one on the only worker, still holds the process.
    expect(run(true, true)).toEqual(['compiled', 'waited for', 'exit'])
  })
})

describe('compiles never block the event loop', () => {
  test('a 10 ms timer keeps firing while a 1,500-statement kernel compiles; 10,000 statements is a coded size error', async () => {
    const body = Array.from({ length: 1500 }, (_, i) => `  s = s + a[${i % 7}] * ${(i % 13) + 1};`).join('\n')
    const big = new Function('a', `let s = 0;\n${body}\nreturn s`) as (a: Float64Array) => number
    const k = kernel(big, { signatures: ['(f64[]) => f64'], name: 'big' })
    const gaps: number[] = []
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      gaps.push(now - last)
      last = now
    }, 10)
    const started = performance.now()
    try {
      await k.ready()
    } finally {
      clearInterval(timer)
    }
    const took = performance.now() - started
    expect(k.tier('(f64[])')).toBe('compiled')
    const a = Float64Array.of(1, 2, 3, 4, 5, 6, 7)
    expect(k(a)).toBe(big(a))
    // The compile took long enough for the timer to tick many times, and it never stalled.
    expect(took).toBeGreaterThan(200)
    expect(gaps.length).toBeGreaterThan(took / 50)
    // (On the main thread the one gap would be the whole compile; a busy machine may delay a tick, not stall it.)
    expect(Math.max(...gaps)).toBeLessThan(Math.min(1000, took / 2))
    const huge = new Function('a', `let s = 0;\n${'s = s + a * 2;\n'.repeat(10_000)}return s`) as (a: number) => number
    const h = kernel(huge, { signatures: ['(f64) => f64'], name: 'huge' })
    const error = await h.ready().then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(KilnError)
    expect((error as KilnError).code).toBe('KILN_TOO_LARGE')
    expect(h(2)).toBe(huge(2))
    // One expression nested thousands deep: also KILN_TOO_LARGE, never an internal error.
    for (const n of [3000, 8000]) {
      const deep = compileKernel({ source: `function deep(a) { return ${Array.from({ length: n }, () => 'a').join(' + ')} }`, signature: '(f64) => f64' })
      expect(deep.ok).toBe(false)
      expect(deep.diagnostics.map((d) => d.code)).toEqual(['KILN_TOO_LARGE'])
    }
  }, 120_000)
})
