// Persistent caches with real files and real processes: the key under edits of a fixture
// project, warm starts from the file store, miss explanations, the CLI, read-only and deleted
// cache directories, and the LRU cap.

import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { compileKernel, COMPILER_VERSION, kernelKey } from '@kiln/compiler'
import { configureCache, FileStore, kernel, type stats } from 'kiln'
import { afterAll, describe, expect, test } from 'vitest'
import { main as cli } from '../packages/kiln/src/cli.js'

const root = resolve(import.meta.dirname, '..')
const tmpRoot = join(root, 'test', '.tmp', `store-${process.pid}`)
const fixture = join(root, 'test', 'fixtures', 'store', 'project')
let counter = 0

afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))

/** A fresh copy of the fixture project and its own cache directory. */
function project(): { dir: string; cache: string; edit: (file: string, from: string | RegExp, to: string) => void } {
  const dir = join(tmpRoot, `p${counter++}`)
  cpSync(fixture, dir, { recursive: true })
  const cache = join(dir, 'cache')
  return {
    dir, cache,
    edit(file, from, to) {
      const path = join(dir, file)
      const text = readFileSync(path, 'utf8')
      const next = text.replace(from, to)
      if (next === text) throw new Error(`edit of ${file} changed nothing`)
      writeFileSync(path, next)
    },
  }
}

interface KernelRun { tierAtStart: string; tier: string; key: string; first: number[]; after: number[]; plain: number[] }
interface ProjectRun { filters: KernelRun; other: KernelRun; stats: ReturnType<typeof stats>; log: string }

/** Runs the project in a new Node process. */
function run(dir: string, cache: string, env: Record<string, string> = {}): ProjectRun {
  const out = execFileSync(process.execPath, [join(root, 'test/support/run-project.mjs'), dir], {
    cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: cache, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  return JSON.parse(out)
}

function runWithLog(dir: string, cache: string): ProjectRun {
  const r = spawnSync(process.execPath, [join(root, 'test/support/run-project.mjs'), dir], {
    cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: cache, KILN_DEBUG_CACHE: '1' },
  })
  if (r.status !== 0) throw new Error(r.stderr)
  return { ...JSON.parse(r.stdout), log: r.stderr }
}

describe('the key, with real files', () => {
  test('edits that change the compiled code change the key; others do not', () => {
    const p = project()
    const base = run(p.dir, p.cache).filters.key
    const keyAfter = (file: string, from: string | RegExp, to: string): string => {
      const q = project()
      q.edit(file, from, to)
      return run(q.dir, q.cache).filters.key
    }
    // A helper in another module.
    expect(keyAfter('src/math.js', 'x < lo ? lo', 'x <= lo ? lo')).not.toBe(base)
    // A constant.
    expect(keyAfter('src/config.js', '1.5', '2')).not.toBe(base)
    // The same value, declared differently.
    expect(keyAfter('src/config.js', '1.5', '3 / 2')).toBe(base)
    // An unrelated function in the helper's file.
    expect(keyAfter('src/math.js', 'a * 2', 'a * 3 + 1')).toBe(base)
    // Comments and whitespace in the kernel and the helper.
    expect(keyAfter('src/filters.js', 'for (let i = 0;', '// scale every pixel\n  for (let   i = 0;')).toBe(base)
    expect(keyAfter('src/math.js', 'return x < lo', '/* clamp */ return  x < lo')).toBe(base)
  })

  test('the project copied to another directory keeps its keys; keys are stable across processes', () => {
    const a = project()
    const b = project()
    const first = run(a.dir, a.cache)
    const again = run(a.dir, a.cache)
    const copied = run(b.dir, b.cache)
    expect(again.filters.key).toBe(first.filters.key)
    expect(copied.filters.key).toBe(first.filters.key)
    expect(copied.other.key).toBe(first.other.key)
  })

  test('the compiler version and optimization level are in the key', () => {
    const input = { source: 'function k(a) { return a + 1 }', signature: '(f64) => f64' }
    const k = kernelKey(input).key
    expect(kernelKey({ ...input, compiler: { compiler: '9.9.9' } }).key).not.toBe(k)
    expect(kernelKey({ ...input, compiler: { binaryen: '133.0.0' } }).key).not.toBe(k)
    expect(kernelKey({ ...input, optimizeLevel: 2 }).key).not.toBe(k)
  })

  test('two kernels with the same name in different modules do not collide', () => {
    const p = project()
    const cold = run(p.dir, p.cache)
    expect(cold.filters.key).not.toBe(cold.other.key)
    const warm = run(p.dir, p.cache)
    for (const r of [warm.filters, warm.other]) {
      expect(r.tierAtStart).toBe('store')
      expect(r.first).toEqual(r.plain)
    }
    expect(warm.filters.first).not.toEqual(warm.other.first)
  })
})

describe('the file store', () => {
  test('a warm store serves the first call synchronously, and an edit is never served stale', () => {
    const p = project()
    const cold = run(p.dir, p.cache)
    expect(cold.filters.tierAtStart).toBe('js')
    expect(cold.filters.tier).toBe('compiled')
    expect(cold.stats.compiles).toBeGreaterThan(0)
    const warm = run(p.dir, p.cache)
    expect(warm.filters.tierAtStart).toBe('store')
    expect(warm.stats.compiles).toBe(0)
    expect(warm.filters.first).toEqual(warm.filters.plain)
    // Change the helper in another file: the stored module must not be used.
    p.edit('src/math.js', 'x > hi ? hi : x', 'x > hi ? hi - 100 : x')
    const edited = run(p.dir, p.cache)
    expect(edited.filters.tierAtStart).toBe('js')
    expect(edited.filters.after).toEqual(edited.filters.plain)
    expect(edited.filters.after).not.toEqual(warm.filters.after)
  })

  test('a warm start does not load the key module (acorn) for a variant no earlier run got to store', () => {
    // The variant's key is learned once, by the run that looked for it; its alias then names it
    // even though no entry exists, so a start that looks again parses nothing.
    const cache = join(tmpRoot, `probe${counter++}`)
    const probe = (...args: string[]) => execFileSync(process.execPath, [join(root, 'test/support/warm-probe.mjs'), ...args], {
      cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: cache },
    })
    probe('fill')
    for (let i = 0; i < 2; i++) expect(JSON.parse(probe())).toEqual({ tier: 'store', keyModule: false })
  })

  test('KILN_DEBUG_CACHE explains every miss against the previous entry', () => {
    const p = project()
    const first = runWithLog(p.dir, p.cache)
    expect(first.log).toMatch(/src\/filters\.js#brighten \(u8c\[\], f64\) => void: miss file — kernel new/)
    const warm = runWithLog(p.dir, p.cache)
    expect(warm.log).toMatch(/src\/filters\.js#brighten \(u8c\[\], f64\) => void: hit file/)
    p.edit('src/config.js', '1.5', '2')
    expect(runWithLog(p.dir, p.cache).log).toMatch(/brighten \(u8c\[\], f64\) => void: miss file — constant GAIN 1\.5 → 2/)
    p.edit('src/math.js', 'x < lo ? lo', 'x <= lo ? lo')
    expect(runWithLog(p.dir, p.cache).log).toMatch(/brighten \(u8c\[\], f64\) => void: miss file — helper clamp changed/)
    p.edit('src/filters.js', "'(u8c[], f64) => void'", "'(u8c[], f64) => void', '(u8c[], f32) => void'")
    expect(runWithLog(p.dir, p.cache).log).toMatch(/brighten \(u8c\[\], f32\) => void: miss file — signature new/)
  })

  test('stats() counts hits, misses, compiles, bytes and compile time', () => {
    const p = project()
    const cold = run(p.dir, p.cache)
    expect(cold.stats.misses).toBeGreaterThan(0)
    expect(cold.stats.compiles).toBe(cold.stats.misses)
    expect(cold.stats.compileMs).toBeGreaterThan(0)
    expect(cold.stats.bytesWritten).toBeGreaterThan(0)
    const warm = run(p.dir, p.cache)
    expect(warm.stats.storeHits).toBe(cold.stats.misses)
    expect(warm.stats.bytesRead).toBe(cold.stats.bytesWritten)
  })

  test('a cache directory that cannot be written falls back to memory with one warning', () => {
    const p = project()
    mkdirSync(p.dir, { recursive: true })
    writeFileSync(join(p.dir, 'not-a-dir'), 'a file where the cache directory should be')
      const r = spawnSync(process.execPath, [join(root, 'test/support/run-project.mjs'), p.dir], {
      cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: join(p.dir, 'not-a-dir', 'cache') },
    })
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as ProjectRun
    expect(out.filters.after).toEqual(out.filters.plain)
    expect(out.filters.tier).toBe('compiled')
    expect(r.stderr.match(/KILN_CACHE_READONLY/g)?.length).toBe(1)
  })

  test('the cache directory may be deleted while a process runs', async () => {
    const dir = join(tmpRoot, `deleted-${counter++}`)
    const store = new FileStore({ dir })
    configureCache({ dir })
    try {
      const make = (n: number) => kernel(new Function('a', `for (let i = 0; i < a.length; i++) a[i] += ${n}`) as (a: Float64Array) => void, { cache: true, signatures: ['(f64[]) => void'], name: `deleted#${n}` })
      await make(1).ready()
      expect(store.list().length).toBeGreaterThan(0)
      rmSync(dir, { recursive: true, force: true })
      const k = make(2)
      await k.ready()
      const a = new Float64Array([1])
      k(a)
      expect(a[0]).toBe(3)
      expect(store.list().length).toBeGreaterThan(0)
    } finally {
      configureCache({ enabled: true })
    }
  })

  test('the size cap evicts the least recently used entries, without a scan on every write', () => {
    const dir = join(tmpRoot, `lru-${counter++}`)
    let scans = 0
    class CountingStore extends FileStore {
      override list() {
        scans++
        return super.list()
      }
    }
    const store = new CountingStore({ dir, maxBytes: 1024 * 1024 })
    const entryFor = (n: number) => {
      const source = `function k(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] * ${n} + ${n} }`
      const signature = '(f64[]) => void'
      const r = compileKernel({ source, signature })
      if (!r.ok) throw new Error('no compile')
      const { key, parts } = kernelKey({ source, signature })
      return { key, id: `lru#${n}`, parts, meta: r.meta, wasm: r.wasm, recipe: { source, deps: {}, constants: {}, signature } }
    }
    const keys: string[] = []
    for (let n = 0; n < 12; n++) {
      const e = entryFor(n)
      keys.push(e.key)
      store.putSync(e)
      // Distinct last-use times, oldest first.
      const t = new Date(Date.now() - (100 - n) * 1000)
      utimesSync(store.entryPath(e.key), t, t)
    }
    // One sweep on the process's first write; the next only after cap/8 bytes.
    expect(scans).toBe(1)
    // Using entry 0 makes it the most recently used.
    expect(store.getSync(keys[0]).entry).not.toBeNull()
    const small = new FileStore({ dir, maxBytes: 6000 })
    const before = small.list().reduce((n, e) => n + e.bytes, 0)
    expect(before).toBeGreaterThan(6000)
    const { removed, bytes } = small.sweep()
    expect(removed).toBeGreaterThan(0)
    expect(bytes).toBeLessThanOrEqual(4500)
    expect(existsSync(small.entryPath(keys[0]))).toBe(true)
    expect(existsSync(small.entryPath(keys[1]))).toBe(false)
    expect(existsSync(small.entryPath(keys[11]))).toBe(true)
  })
})

describe('the kiln CLI', () => {
  test('ls, stats, verify and clear', async () => {
    const p = project()
    run(p.dir, p.cache)
    const lines: string[] = []
    const say = (l: string) => lines.push(l)
    expect(await cli(['cache', 'ls', '--dir', p.cache], say)).toBe(0)
    expect(lines.join('\n')).toMatch(/src\/filters\.js#brighten\s+\(u8c\[\], f64\) => void\s+[\d.]+ (B|KiB)\s+\d{4}-\d\d-\d\d/)
    expect(lines.join('\n')).toMatch(/src\/other\/filters\.js#brighten/)
    lines.length = 0
    expect(await cli(['cache', 'stats', '--dir', p.cache], say)).toBe(0)
    expect(lines.join('\n')).toMatch(/entries\s+\d+ \(2 kernels\)/)
    lines.length = 0
    expect(await cli(['cache', 'verify', '--dir', p.cache], say)).toBe(0)
    const count = readdirSync(join(p.cache, 'entries')).length
    expect(lines.at(-1)).toBe(`${count} of ${count} entries verify`)
    // A stored module that is not what its recipe compiles to is reported.
    const store = new FileStore({ dir: p.cache })
    const [victim] = store.list()
    const decoded = store.inspect(victim.path)
    if (!('entry' in decoded)) throw new Error('unreadable')
    const wasm = decoded.entry.wasm.slice()
    wasm[wasm.length - 2] ^= 1
    store.putSync({ ...decoded.entry, wasm })
    lines.length = 0
    expect(await cli(['cache', 'verify', '--dir', p.cache], say)).toBe(1)
    expect(lines.join('\n')).toMatch(new RegExp(`^MISMATCH +${victim.key.slice(0, 12)}`, 'm'))
    lines.length = 0
    expect(await cli(['cache', 'clear', '--dir', p.cache], say)).toBe(0)
    expect(existsSync(join(p.cache, 'entries'))).toBe(false)
  })

  test('runs from the repo root through the package bin', () => {
    const p = project()
    run(p.dir, p.cache)
    const out = execFileSync(join(root, 'node_modules', '.bin', 'kiln'), ['cache', 'ls'], { cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: p.cache } })
    expect(out).toContain('src/filters.js#brighten')
    expect(statSync(join(p.cache, 'entries')).isDirectory()).toBe(true)
  })
})

describe('miss explanations', () => {
  test('each changed part of the key is named', async () => {
    const { explainMiss } = await import('../packages/kiln/src/store/explain.js')
    const base = kernelKey({ source: 'function k(a) { return clamp(a * G) }', deps: { clamp: 'function clamp(x) { return x }' }, constants: { G: 1.5 }, signature: '(f64) => f64' }).parts
    const changed = kernelKey({
      source: 'function k(a) { return clamp(a * G) + W[0] }', deps: { clamp: 'function clamp(x) { return -x }' }, constants: { G: 2, W: [1] }, signature: '(f64) => f64',
      compiler: { compiler: '9.9.9' }, optimizeLevel: 2,
    }).parts
    expect(explainMiss(changed, base, false)).toBe(
      `compiler version changed (${COMPILER_VERSION} → 9.9.9), optimization level changed (3 → 2), kernel source changed, helper clamp changed, constant G 1.5 → 2, constant W added ([1])`,
    )
    expect(explainMiss(base, null, true)).toBe('signature new')
    expect(explainMiss(base, null, false)).toBe('kernel new')
    expect(explainMiss(base, base, false)).toBe('entry evicted, deleted or corrupt')
  })
})
