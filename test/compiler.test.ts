// The compiler as a pure function: deterministic bytes, self-contained modules (helpers inside,
// only the memory and Math imported), the key's parts, and lazy loading by the runtime.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { BINARYEN_VERSION, compileKernel, kernelKey } from '@kiln/compiler'
import { describe, expect, test } from 'vitest'
// @ts-expect-error plain JS corpus
import { corpus } from './corpus/kernels.js'

interface Case { name: string; fn: (...a: unknown[]) => unknown; deps?: Record<string, unknown>; signature: string }

function inputOf(c: Case) {
  const deps: Record<string, string> = {}
  const constants: Record<string, number | number[]> = {}
  for (const [k, v] of Object.entries(c.deps ?? {})) {
    if (typeof v === 'function') deps[k] = v.toString()
    else constants[k] = v as number
  }
  return { source: c.fn.toString(), deps, constants, signature: c.signature }
}

describe('determinism', () => {
  for (const c of corpus as Case[]) {
    test(`${c.name} compiles to the same bytes and key twice`, () => {
      const a = compileKernel(inputOf(c))
      const b = compileKernel(inputOf(c))
      expect(a.ok && b.ok).toBe(true)
      if (!a.ok || !b.ok) return
      expect(Buffer.from(a.wasm).equals(Buffer.from(b.wasm))).toBe(true)
      expect(kernelKey(inputOf(c)).key).toBe(kernelKey(inputOf(c)).key)
    })
  }
})

describe('modules', () => {
  test('helpers compile into the module; only memory and host Math are imported', () => {
    const threshold = (corpus as Case[]).find((c) => c.name === 'threshold')!
    const r = compileKernel(inputOf(threshold))
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(r.wasm as Uint8Array<ArrayBuffer>))
    expect(imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }])
    const waves = compileKernel(inputOf((corpus as Case[]).find((c) => c.name === 'waves')!))
    if (!waves.ok) throw new Error('waves did not compile')
    const wavesImports = WebAssembly.Module.imports(new WebAssembly.Module(waves.wasm as Uint8Array<ArrayBuffer>))
    expect(wavesImports.filter((i) => i.module === 'Math').map((i) => i.name).sort()).toEqual(['atan2', 'exp', 'pow', 'sin'])
    expect(waves.meta.mathImports.sort()).toEqual(['atan2/2', 'exp/1', 'pow/2', 'sin/1'])
  })

  test('folded constants are inlined: the module does not read them from the host', () => {
    const src = 'function k(a) { for (let i = 0; i < a.length; i++) a[i] *= GAIN }'
    const r1 = compileKernel({ source: src, constants: { GAIN: 2 }, signature: '(f64[]) => void' })
    const r2 = compileKernel({ source: src, constants: { GAIN: 3 }, signature: '(f64[]) => void' })
    if (!r1.ok || !r2.ok) throw new Error('did not compile')
    expect(Buffer.from(r1.wasm).equals(Buffer.from(r2.wasm))).toBe(false)
    expect(WebAssembly.Module.imports(new WebAssembly.Module(r1.wasm as Uint8Array<ArrayBuffer>)).length).toBe(1)
  })

  test('the binaryen version in the compiler identity is the installed one', () => {
    const require = createRequire(import.meta.resolve('@kiln/compiler'))
    const pkg = JSON.parse(readFileSync(require.resolve('binaryen/package.json'), 'utf8'))
    expect(pkg.version).toBe(BINARYEN_VERSION)
  })
})

describe('exact operations', () => {
  /** Doubles from random bit patterns: every exponent, subnormals, NaNs and infinities. */
  function randomDoubles(n: number, seed: number): Float64Array {
    const bits = new Uint32Array(n * 2)
    let s = seed
    for (let i = 0; i < bits.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      bits[i] = s
    }
    return new Float64Array(bits.buffer)
  }

  test('% equals JS on random bit patterns and edge values', async () => {
    const { kernel } = await import('kiln')
    const mod = kernel(function mod(a: Float64Array, b: Float64Array, out: Float64Array) {
      for (let i = 0; i < a.length; i++) out[i] = a[i] % b[i]
    }, { signatures: ['(f64[], f64[], f64[]) => void'] })
    await mod.ready()
    const n = 60000
    const a = randomDoubles(n, 1)
    const b = randomDoubles(n, 2)
    // Mix in ordinary magnitudes and edge values so every branch runs.
    const edges = [0, -0, 1, -1, 0.5, 3, -3, 7.25, 1e-310, -5e-324, 2 ** 52, 2 ** 53 + 2, 1e308, Infinity, -Infinity, NaN, 2147483648, -2147483648]
    for (let i = 0; i < n; i += 3) {
      a[i] = i % 2 ? edges[i % edges.length] : (i - n / 2) * 1.37
      b[i + 1] = edges[(i >> 1) % edges.length]
    }
    for (let i = 2; i < n; i += 5) b[i] = a[i] / ((i % 17) + 0.5)
    const out = new Float64Array(n)
    mod(a, b, out)
    const wrong: string[] = []
    for (let i = 0; i < n && wrong.length < 5; i++) {
      const expected = a[i] % b[i]
      if (!Object.is(out[i], expected)) wrong.push(`${a[i]} % ${b[i]}: expected ${expected}, got ${out[i]}`)
    }
    expect(wrong).toEqual([])
  })
})

describe('the key', () => {
  const base = { source: 'function k(a) { return clamp(a * GAIN) }', deps: { clamp: 'function clamp(x) { return x < 0 ? 0 : x }' }, constants: { GAIN: 2 }, signature: '(f64) => f64' }
  test('whitespace and comments do not change it', () => {
    const spaced = { ...base, source: 'function k(a) {\n  // scale\n  return clamp( a*GAIN )\n}' }
    expect(kernelKey(spaced).key).toBe(kernelKey(base).key)
  })
  test('a helper, a constant, the signature or the optimization level change it', () => {
    const k = kernelKey(base).key
    expect(kernelKey({ ...base, deps: { clamp: 'function clamp(x) { return x < 1 ? 1 : x }' } }).key).not.toBe(k)
    expect(kernelKey({ ...base, constants: { GAIN: 2.5 } }).key).not.toBe(k)
    expect(kernelKey({ ...base, signature: '(f32) => f64' }).key).not.toBe(k)
    expect(kernelKey({ ...base, optimizeLevel: 2 }).key).not.toBe(k)
  })
  test('a literal keeps its type: a number and the string of its digits differ', () => {
    // They collided once: an edit from `2` to `"2"` was served the old module instead of its error.
    const withString = { ...base, source: 'function k(a) { return clamp(a * "2") }' }
    expect(kernelKey(withString).key).not.toBe(kernelKey({ ...base, source: 'function k(a) { return clamp(a * 2) }' }).key)
    expect(kernelKey({ ...base, source: 'function k(a) { return a > 0 ? "1" : 1 }' }).key).not.toBe(kernelKey({ ...base, source: 'function k(a) { return a > 0 ? 1 : 1 }' }).key)
  })
  test('an unused dependency does not change it', () => {
    expect(kernelKey({ ...base, deps: { ...base.deps, other: 'function other() { return 1 }' }, constants: { GAIN: 2, UNUSED: 7 } }).key).toBe(kernelKey(base).key)
  })
  test('it keeps its parts, for explaining misses', () => {
    const { parts } = kernelKey(base)
    expect(Object.keys(parts.helpers)).toEqual(['clamp'])
    expect(parts.constants).toEqual({ GAIN: '2' })
    expect(parts.signature).toBe('(f64) => f64')
  })
})

describe('lazy loading', () => {
  test('importing kiln and calling a kernel does not load the compiler until a compile is needed', () => {
    const script = `
      import { register } from 'node:module'
      import { MessageChannel } from 'node:worker_threads'
      const { port1, port2 } = new MessageChannel()
      const loaded = []
      port1.on('message', (m) => loaded.push(m))
      port1.unref()
      register('data:text/javascript,' + encodeURIComponent(\`
        let port
        export function initialize(data) { port = data.port }
        export async function resolve(s, c, next) { const r = await next(s, c); if (/binaryen|compiler\\\\/dist\\\\/index/.test(r.url)) port.postMessage(r.url); return r }
      \`), import.meta.url, { data: { port: port2 }, transferList: [port2] })
      const { kernel } = await import('kiln')
      const k = kernel(function inc(a) { for (let i = 0; i < a.length; i++) a[i]++ })
      await new Promise((r) => setTimeout(r, 50))
      const before = loaded.length
      k(new Float64Array(4))
      await k.ready()
      await new Promise((r) => setTimeout(r, 50))
      console.log(JSON.stringify({ before, after: loaded.length, tier: k.tier('(f64[])') }))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' })
    const result = JSON.parse(out.trim().split('\n').pop()!)
    expect(result.before).toBe(0)
    expect(result.after).toBeGreaterThan(0)
    expect(result.tier).toBe('compiled')
  })
})
