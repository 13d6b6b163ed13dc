// The store and the CLI only ever delete what Kiln wrote: `clear` refuses a directory that is
// not a store, links are never followed, a mistyped flag is an error (never the default store),
// and eight processes sweeping one over-full store at once keep it near its cap.

import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { compileKernel, kernelKey } from '@kiln/compiler'
import { rawKeyText } from '@kiln/compiler/raw'
import { FileStore } from 'kiln'
import { afterAll, describe, expect, test } from 'vitest'
import { main as cli } from '../packages/kiln/src/cli.js'

const root = resolve(import.meta.dirname, '..')
const tmpRoot = join(root, 'test', '.tmp', `safety-${process.pid}`)
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))
let counter = 0
const fresh = (name: string): string => {
  const dir = join(tmpRoot, `${name}-${counter++}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

const compiled = (() => {
  const source = 'function k(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] * 2 }'
  const signature = '(f64[]) => void'
  const r = compileKernel({ source, signature })
  if (!r.ok) throw new Error('no compile')
  return { source, signature, meta: r.meta, wasm: r.wasm, parts: kernelKey({ source, signature }).parts }
})()

/** Fills a store with `n` entries (distinct keys), oldest first. */
function fill(store: FileStore, n: number): string[] {
  const keys: string[] = []
  for (let i = 0; i < n; i++) {
    const key = createHash('sha256').update(`entry ${i}`).digest('hex')
    const written = store.putSync({ key, id: `k#${i}`, parts: compiled.parts, meta: compiled.meta, wasm: compiled.wasm, recipe: { source: compiled.source, deps: {}, constants: {}, signature: compiled.signature } })
    const t = new Date(Date.now() - (n - i) * 1000)
    if (written > 0) utimesSync(store.entryPath(key), t, t)
    keys.push(key)
  }
  return keys
}

async function run(argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = []
  const code = await cli(argv, (l) => lines.push(l))
  return { code, text: lines.join('\n') }
}

/** A directory with a project in it: what `KILN_CACHE_DIR` or `--dir` must never destroy. */
function projectDir(): string {
  const dir = fresh('project')
  writeFileSync(join(dir, 'package.json'), '{"name":"mine"}')
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src', 'main.js'), 'export const x = 1')
  return dir
}

describe('kiln cache clear deletes only a store, and only what Kiln wrote', () => {
  test('a project directory given as the cache is refused, through --dir and through KILN_CACHE_DIR', async () => {
    const dir = projectDir()
    const r = await run(['cache', 'clear', '--dir', dir])
    expect(r.code).toBe(1)
    expect(r.text).toContain('KILN_CACHE_NOT_STORE')
    expect(readFileSync(join(dir, 'src', 'main.js'), 'utf8')).toBe('export const x = 1')
    const before = process.env.KILN_CACHE_DIR
    process.env.KILN_CACHE_DIR = dir
    try {
      expect((await run(['cache', 'clear'])).code).toBe(1)
    } finally {
      if (before === undefined) delete process.env.KILN_CACHE_DIR
      else process.env.KILN_CACHE_DIR = before
    }
    expect(existsSync(join(dir, 'package.json'))).toBe(true)
  })

  test('a regular file given as the cache is refused and kept', async () => {
    const file = join(fresh('file'), 'notes.txt')
    writeFileSync(file, 'keep me')
    const r = await run(['cache', 'clear', '--dir', file])
    expect(r.code).toBe(1)
    expect(r.text).toContain('not a directory')
    expect(readFileSync(file, 'utf8')).toBe('keep me')
  })

  test('a store is cleared of its entries; files Kiln did not write stay', async () => {
    const dir = fresh('store')
    const store = new FileStore({ dir })
    fill(store, 5)
    expect(existsSync(join(dir, 'CACHEDIR.TAG'))).toBe(true)
    writeFileSync(join(dir, 'entries', 'README.txt'), 'mine')
    writeFileSync(join(dir, 'own.txt'), 'mine too')
    const r = await run(['cache', 'clear', '--dir', dir])
    expect(r).toEqual({ code: 0, text: `removed 5 entries from ${dir}` })
    expect(readdirSync(join(dir, 'entries'))).toEqual(['README.txt'])
    expect(readFileSync(join(dir, 'own.txt'), 'utf8')).toBe('mine too')
    expect(existsSync(join(dir, 'index'))).toBe(false)
    // A cleared store is written again, marker included.
    fill(store, 1)
    expect(store.list()).toHaveLength(1)
    expect(new FileStore({ dir }).isStore()).toBe(true)
  })

  test('links inside a store are not followed, by clear or by the sweep', async () => {
    const outside = fresh('outside')
    const victim = join(outside, 'precious.tmp')
    writeFileSync(victim, 'data')
    writeFileSync(join(outside, '0123456789abcdef'), 'looks like an alias')
    const old = new Date(Date.now() - 3600_000)
    utimesSync(victim, old, old)
    const dir = fresh('linked')
    fill(new FileStore({ dir }), 8)
    const store = new FileStore({ dir, maxBytes: 4000 })
    rmSync(join(dir, 'tmp'), { recursive: true, force: true })
    rmSync(join(dir, 'alias'), { recursive: true, force: true })
    symlinkSync(outside, join(dir, 'tmp'))
    symlinkSync(outside, join(dir, 'alias'))
    const swept = store.sweep()
    expect(swept.removed).toBeGreaterThan(0)
    expect(readdirSync(outside).sort()).toEqual(['0123456789abcdef', 'precious.tmp'])
    expect((await run(['cache', 'clear', '--dir', dir])).code).toBe(0)
    expect(readdirSync(outside).sort()).toEqual(['0123456789abcdef', 'precious.tmp'])
  })

  test('a mistyped or value-less flag is an error and clears nothing', async () => {
    const dir = fresh('flags')
    fill(new FileStore({ dir }), 2)
    for (const argv of [['cache', 'clear', '--dri', dir], ['cache', 'clear', '--dir'], ['cache', 'clear', '--dir', '--force'], ['cache', 'clear', '-f']]) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.text).toMatch(/^kiln: (unknown option|--dir needs a directory)/)
    }
    expect(new FileStore({ dir }).list()).toHaveLength(2)
    expect((await run(['cache', 'clear', `--dir=${dir}`])).code).toBe(0)
    expect(new FileStore({ dir }).list()).toHaveLength(0)
  })

  test('ls escapes control characters in kernel ids', async () => {
    const dir = fresh('ls')
    const store = new FileStore({ dir })
    const key = createHash('sha256').update('ls').digest('hex')
    store.putSync({ key, id: 'evil\nfake row\u001b[31m', parts: compiled.parts, meta: compiled.meta, wasm: compiled.wasm, recipe: { source: compiled.source, deps: {}, constants: {}, signature: compiled.signature } })
    const r = await run(['cache', 'ls', '--dir', dir])
    expect(r.code).toBe(0)
    expect(r.text.split('\n')).toHaveLength(2)
    expect(r.text).toContain('evil\\x0afake row\\x1b[31m')
  })
})

describe('the cap covers the whole store', () => {
  test('index and alias files of evicted entries are removed with them', () => {
    const dir = fresh('index')
    const big = new FileStore({ dir })
    const keys = fill(big, 40)
    keys.forEach((key, i) => big.aliasPut(`raw input ${i}`, key))
    const count = (sub: string): number => readdirSync(join(dir, sub)).length
    expect(count('index')).toBe(40)
    expect(count('alias')).toBe(40)
    const total = big.list().reduce((n, e) => n + e.bytes, 0)
    const small = new FileStore({ dir, maxBytes: Math.floor(total / 2) })
    const { removed, bytes } = small.sweep()
    expect(removed).toBeGreaterThan(0)
    const left = small.list().length
    expect(count('index')).toBe(left)
    expect(count('alias')).toBe(left)
    expect(bytes).toBeLessThanOrEqual(small.maxBytes)
  })
})

describe('concurrent sweeps', () => {
  test('4 processes writing 4× the cap between them leave the store within 10% of its cap', async () => {
    const dir = fresh('writers')
    const probe = new FileStore({ dir: fresh('probe') })
    fill(probe, 10)
    const perEntry = probe.list()[0].bytes
    const cap = perEntry * 60
    const script = (w: number): string => `
      const { createHash } = await import('node:crypto')
      const { compileKernel, kernelKey } = await import('@kiln/compiler')
      const { FileStore } = await import('kiln')
      const source = ${JSON.stringify(compiled.source)}, signature = ${JSON.stringify(compiled.signature)}
      const r = compileKernel({ source, signature })
      const { parts } = kernelKey({ source, signature })
      const store = new FileStore({ dir: ${JSON.stringify(dir)}, maxBytes: ${cap} })
      for (let i = 0; i < 60; i++) {
        const key = createHash('sha256').update('writer ${w} entry ' + i).digest('hex')
        store.putSync({ key, id: 'w${w}#' + i, parts, meta: r.meta, wasm: r.wasm, recipe: { source, deps: {}, constants: {}, signature } })
      }`
    await Promise.all([0, 1, 2, 3].map((w) => new Promise<void>((done) => {
      spawn(process.execPath, ['--input-type=module', '-e', script(w)], { cwd: root, stdio: 'ignore' }).on('close', () => done())
    })))
    const size = (sub: string): number => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).reduce((n, f) => n + statSync(join(dir, sub, f)).size, 0) : 0)
    const total = size('entries') + size('index') + size('alias')
    expect(new FileStore({ dir }).list().length).toBeGreaterThan(0)
    expect(total).toBeLessThanOrEqual(cap * 1.1)
  }, 60_000)

  test('8 processes sweeping a store at 4× its cap at once leave it under the cap, not empty', async () => {
    const dir = fresh('sweeps')
    const store = new FileStore({ dir, maxBytes: 1 << 30 })
    fill(store, 200)
    const total = store.list().reduce((n, e) => n + e.bytes, 0)
    const cap = Math.floor(total / 4)
    const script = `import('kiln').then(({ FileStore }) => console.log(JSON.stringify(new FileStore({ dir: ${JSON.stringify(dir)}, maxBytes: ${cap} }).sweep())))`
    const runs = await Promise.all(Array.from({ length: 8 }, () => new Promise<string>((done) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.on('close', () => done(out))
    })))
    const removed = runs.map((o) => (JSON.parse(o) as { removed: number }).removed)
    const left = store.list().reduce((n, e) => n + e.bytes, 0)
    expect(left).toBeLessThanOrEqual(cap)
    expect(left).toBeGreaterThan(cap / 2)
    expect(removed.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  }, 60_000)
})

/** A tmpfs of `size` at `dir`, or null where mounting is not possible (not root, no mount rights). */
function mountTmpfs(dir: string, size: string): (() => void) | null {
  if (process.getuid?.() !== 0) return null
  mkdirSync(dir, { recursive: true })
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  if (r.status !== 0) return null
  return () => void spawnSync('umount', ['-l', dir])
}

describe('a store on a real mount heals', () => {
  test('a full disk: KILN_CACHE_FULL once, no partial temp files, and writes resume once there is room', (ctx) => {
    const dir = join(tmpRoot, `full-${counter++}`)
    const unmount = mountTmpfs(dir, '96k')
    if (!unmount) return ctx.skip('needs root and mount (tmpfs) to fill a real disk')
    try {
      const warnings: string[] = []
      const store = new FileStore({ dir, maxBytes: 1 << 30, warn: (m) => warnings.push(m) })
      const keys = fill(store, 120)
      const stored = store.list().length
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(120)
      expect(warnings.filter((w) => w.includes('KILN_CACHE_FULL'))).toHaveLength(1)
      expect(readdirSync(join(dir, 'tmp'))).toEqual([])
      // Room again: the same process stores again.
      for (const e of store.list().slice(0, 10)) rmSync(e.path)
      const before = store.list().length
      const key = createHash('sha256').update('after the disk had room again').digest('hex')
      expect(store.putSync({ key, id: 'again', parts: compiled.parts, meta: compiled.meta, wasm: compiled.wasm, recipe: { source: compiled.source, deps: {}, constants: {}, signature: compiled.signature } })).toBeGreaterThan(0)
      expect(store.list().length).toBe(before + 1)
      expect(keys).toHaveLength(120)
    } finally {
      unmount()
    }
  })

  test('a read-only directory: KILN_CACHE_READONLY once, and writes resume when it is writable again', async (ctx) => {
    const dir = join(tmpRoot, `ro-${counter++}`)
    const unmount = mountTmpfs(dir, '4m')
    if (!unmount) return ctx.skip('needs root and mount (tmpfs) to make a real read-only directory')
    try {
      const warnings: string[] = []
      const store = new FileStore({ dir, warn: (m) => warnings.push(m) })
      fill(store, 1)
      expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0)
      const key = createHash('sha256').update('ro').digest('hex')
      const put = (k: string) => store.putSync({ key: k, id: 'ro', parts: compiled.parts, meta: compiled.meta, wasm: compiled.wasm, recipe: { source: compiled.source, deps: {}, constants: {}, signature: compiled.signature } })
      expect(put(key)).toBe(0)
      expect(put(key)).toBe(0)
      expect(warnings.filter((w) => w.includes('KILN_CACHE_READONLY'))).toHaveLength(1)
      // clear on a read-only store: a message and exit 1, not a stack trace; nothing is lost.
      const cleared = await run(['cache', 'clear', '--dir', dir])
      expect(cleared.code).toBe(1)
      expect(cleared.text).toMatch(/^kiln: cannot clear .*(EROFS|read-only)/)
      expect(cleared.text).not.toMatch(/\n\s+at /)
      expect(store.list()).toHaveLength(1)
      expect(spawnSync('mount', ['-o', 'remount,rw', dir]).status).toBe(0)
      expect(put(key)).toBeGreaterThan(0)
      expect(store.getSync(key).entry).not.toBeNull()
    } finally {
      unmount()
    }
  })
})

describe('what the store trusts', () => {
  const entryOf = (source: string) => {
    const signature = '(f64[]) => void'
    const r = compileKernel({ source, signature })
    if (!r.ok) throw new Error('no compile')
    const { key, parts } = kernelKey({ source, signature })
    return { key, id: 'trust', parts, meta: r.meta, wasm: r.wasm, recipe: { source, deps: {}, constants: {}, signature } }
  }
  const A = entryOf('function k(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] + 1 }')
  const B = entryOf('function k(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] - 1 }')

  test('verify finds an entry filed under another key, and an alias to an entry of other inputs', async () => {
    const dir = fresh('forged')
    const store = new FileStore({ dir })
    store.putSync(A)
    // A's module and recipe under B's key, with a checksum that checks out: served for B without signing…
    store.putSync({ ...A, key: B.key })
    expect([...store.getSync(B.key).entry!.wasm]).toEqual([...A.wasm])
    // …and B's raw inputs aliased to A's key.
    store.aliasPut(rawKeyText(B.recipe), A.key)
    const r = await run(['cache', 'verify', '--dir', dir])
    expect(r.code).toBe(1)
    expect(r.text).toMatch(new RegExp(`^FORGED +${B.key.slice(0, 12)} .*recipe hashes to ${A.key.slice(0, 12)}`, 'm'))
    expect(r.text).toMatch(new RegExp(`^FORGED ALIAS +${A.key.slice(0, 12)}`, 'm'))
    expect(r.text).toMatch(new RegExp(`^OK +${A.key.slice(0, 12)}`, 'm'))
  })

  test('verify skips entries removed while it runs (GONE), never calling them corrupt', async () => {
    const dir = fresh('gone')
    const store = new FileStore({ dir })
    for (let n = 0; n < 48; n++) store.putSync(entryOf(`function k(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] * ${n + 2} }`))
    const child = spawn(process.execPath, [join(root, 'packages/kiln/bin/kiln.mjs'), 'cache', 'verify', '--dir', dir], { cwd: root })
    let out = ''
    let cleared = false
    child.stdout.on('data', (d) => {
      out += d
      // After the first verified entry, every other entry disappears (an eviction or `clear` elsewhere).
      if (!cleared && /^OK /m.test(out)) {
        cleared = true
        for (const e of store.list()) rmSync(e.path, { force: true })
      }
    })
    const code = await new Promise<number | null>((done) => child.on('close', done))
    expect(cleared).toBe(true)
    expect(out).toMatch(/^GONE /m)
    expect(out).not.toMatch(/CORRUPT|MISMATCH/)
    expect(code).toBe(0)
  }, 60_000)

  test('verify skips another compiler version\'s entries instead of failing them', async () => {
    const dir = fresh('versions')
    const store = new FileStore({ dir })
    store.putSync(A)
    const old = { ...B, key: createHash('sha256').update('old').digest('hex'), parts: { ...B.parts, compiler: { ...B.parts.compiler, compiler: '0.0.1' } } }
    store.putSync(old)
    const r = await run(['cache', 'verify', '--dir', dir])
    expect(r.code).toBe(0)
    expect(r.text).toMatch(new RegExp(`^OTHER VERSION +${old.key.slice(0, 12)}`, 'm'))
    expect(r.text).toContain('1 of 1 entries verify (1 skipped: other versions or gone)')
  })

  test('with a signing key, unsigned and wrongly signed entries and aliases are misses', () => {
    const dir = fresh('signed')
    const warnings: string[] = []
    const signed = new FileStore({ dir, signingKey: 'team secret', warn: (m) => warnings.push(m) })
    signed.putSync(A)
    signed.aliasPut(rawKeyText(A.recipe), A.key)
    expect(signed.getSync(A.key).entry).not.toBeNull()
    expect(signed.aliasGet(rawKeyText(A.recipe))).toBe(A.key)
    // Written by someone without the key (or with another): not trusted.
    new FileStore({ dir, signingKey: null }).putSync(B)
    expect(signed.getSync(B.key).entry).toBeNull()
    expect(warnings.join('\n')).toContain('unsigned entry')
    const other = new FileStore({ dir, signingKey: 'another secret', warn: () => {} })
    expect(other.getSync(A.key).entry).toBeNull()
    expect(other.aliasGet(rawKeyText(A.recipe))).toBeNull()
    // A forged alias written without the key is ignored by the signed store.
    new FileStore({ dir, signingKey: null }).aliasPut(rawKeyText(B.recipe), A.key)
    expect(signed.aliasGet(rawKeyText(B.recipe))).toBeNull()
  })
})
