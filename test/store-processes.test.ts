// Real processes on a real file system: eight writers fill one cache directory at once, and a
// catalogue of corrupted entries, each a miss with one warning and a correct recompile.

import { spawn, spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { FORMAT_VERSION } from '@kiln/compiler'
import { FileStore } from 'kiln'
import { afterAll, describe, expect, test } from 'vitest'
import { main as cli } from '../packages/kiln/src/cli.js'

const root = resolve(import.meta.dirname, '..')
const tmpRoot = join(root, 'test', '.tmp', `procs-${process.pid}`)
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))

function runAsync(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

describe('many processes writing one store', () => {
  test('8 processes compile and write the same 20 kernels at once; every entry verifies', async () => {
    const cache = join(tmpRoot, 'shared-cache')
    const runs = await Promise.all(Array.from({ length: 8 }, () => runAsync(join(root, 'test/support/store-worker.mjs'), [], { KILN_CACHE_DIR: cache })))
    for (const r of runs) {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const out = JSON.parse(r.stdout)
      expect(out.mismatches).toEqual([])
      // No process read a partial or corrupt entry, or failed to write.
      expect(out.warnings).toEqual([])
      expect(Object.keys(out.tiers)).toHaveLength(20)
    }
    const lines: string[] = []
    expect(await cli(['cache', 'verify', '--dir', cache], (l) => lines.push(l))).toBe(0)
    const count = readdirSync(join(cache, 'entries')).length
    expect(count).toBeGreaterThanOrEqual(20)
    expect(lines.at(-1)).toBe(`${count} of ${count} entries verify`)
    // A process started afterwards compiles nothing.
    const warm = await runAsync(join(root, 'test/support/store-worker.mjs'), [], { KILN_CACHE_DIR: cache })
    const warmOut = JSON.parse(warm.stdout)
    expect(warmOut.stats.compiles).toBe(0)
    expect(Object.values(warmOut.tiers).every((t) => t === 'store')).toBe(true)
  })
})

describe('corrupt entries', () => {
  const project = join(tmpRoot, 'corrupt-project')
  const cache = join(tmpRoot, 'corrupt-cache')
  const runProject = () => {
    const r = spawnSync(process.execPath, [join(root, 'test/support/run-project.mjs'), project], { cwd: root, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: cache } })
    if (r.status !== 0) throw new Error(r.stderr)
    return { out: JSON.parse(r.stdout), stderr: r.stderr }
  }
  let key = ''
  let pristine = new Uint8Array()
  let foreign = new Uint8Array()
  const entryPath = () => join(cache, 'entries', `${key}.kiln`)

  const setUp = () => {
    if (key) return
    cpSync(join(root, 'test/fixtures/store/project'), project, { recursive: true })
    const first = runProject().out
    key = first.filters.key
    pristine = new Uint8Array(readFileSync(entryPath()))
    foreign = new Uint8Array(readFileSync(join(cache, 'entries', `${first.other.key}.kiln`)))
  }
  const headerEnd = () => 48 + new DataView(pristine.buffer, pristine.byteOffset).getUint32(12, true)

  const flip = (offset: () => number) => () => {
    const b = pristine.slice()
    b[offset()] ^= 0x10
    return b
  }
  const cases: [string, () => Uint8Array][] = [
    ...[1, 7, 8, 12, 20, 47, 48, 100].map((n): [string, () => Uint8Array] => [`truncated at ${n}`, () => pristine.slice(0, n)]),
    ['truncated inside the header', () => pristine.slice(0, headerEnd() - 3)],
    ['truncated inside the wasm', () => pristine.slice(0, headerEnd() + 20)],
    ['truncated by one byte', () => pristine.slice(0, pristine.length - 1)],
    ['bit flip in the magic', flip(() => 3)],
    ['bit flip in the header length', flip(() => 13)],
    ['bit flip in the content hash', flip(() => 30)],
    ['bit flip in the metadata', flip(() => headerEnd() - 40)],
    ['bit flip in the wasm', flip(() => headerEnd() + 30)],
    ['empty file', () => new Uint8Array()],
    ['an older format version', () => {
      const b = pristine.slice()
      new DataView(b.buffer).setUint32(8, FORMAT_VERSION - 1, true)
      return b
    }],
    ['a foreign file', () => new TextEncoder().encode('\x89PNG\r\n\x1a\n not a kernel at all, just some bytes of another format')],
    ['another kernel\'s entry under this key', () => foreign],
  ]

  for (const [name, corrupt] of cases) {
    test(`${name}: a miss with one warning, then a correct recompile`, () => {
      setUp()
      writeFileSync(entryPath(), corrupt())
      const { out, stderr } = runProject()
      const warnings = stderr.match(/KILN_CACHE_CORRUPT[^\n]*/g) ?? []
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(`${key}.kiln`)
      expect(out.filters.tierAtStart).toBe('js')
      expect(out.filters.after).toEqual(out.filters.plain)
      // The recompiled entry replaced the bad one.
      const store = new FileStore({ dir: cache })
      expect(store.getSync(key).entry).not.toBeNull()
      expect(runProject().out.filters.tierAtStart).toBe('store')
    })
  }

  test('a stray temp file is ignored, and removed once stale', () => {
    setUp()
    const tmp = join(cache, 'tmp')
    mkdirSync(tmp, { recursive: true })
    const stray = join(tmp, `${process.pid}-${Date.now().toString(36)}-crashed.tmp`)
    writeFileSync(stray, pristine.slice(0, 40))
    const old = new Date(Date.now() - 3600_000)
    utimesSync(stray, old, old)
    const { out, stderr } = runProject()
    expect(stderr).not.toMatch(/KILN_CACHE_CORRUPT/)
    expect(out.filters.tierAtStart).toBe('store')
    // The next process that writes sweeps stale temp files.
    writeFileSync(entryPath(), new Uint8Array())
    runProject()
    expect(existsSync(stray)).toBe(false)
  })
})
