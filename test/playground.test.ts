// The playground, built with real Vite and the plugin, served by `vite preview` and run in
// Chromium: every kernel precompiled (tier aot) and equal to plain JS, in the page and in a
// module worker, with one artifact pack per bundle and no compiler loaded. Then a folded
// constant is edited and the app rebuilt: exactly the kernels that read it are recompiled.

import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'vite'
import { afterAll, expect, test, vi } from 'vitest'
import { compilerChunks, visitPreview } from './support/browser.js'

const root = resolve(import.meta.dirname, '..')
const dir = join(root, 'test', '.tmp', `playground-${process.pid}`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Row { name: string; tier: string; same: boolean }

async function buildPlayground(): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await build({ root: dir, logLevel: 'error', build: { chunkSizeWarningLimit: 100_000 } })
    return log.mock.calls.map((c) => String(c[0])).join('\n')
  } finally {
    log.mockRestore()
  }
}

async function runInChromium(): Promise<{ results: Row[]; worker: { tier: string; same: boolean }; requests: string[] }> {
  const { values, requests } = await visitPreview({ root: dir }, ['__playground', '__playgroundWorker'])
  return { results: values.__playground as Row[], worker: values.__playgroundWorker as { tier: string; same: boolean }, requests }
}

test('the playground runs precompiled kernels in Chromium; a constant edit recompiles exactly its readers', async () => {
  rmSync(dir, { recursive: true, force: true })
  cpSync(join(root, 'playground'), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
  const first = await buildPlayground()
  expect(first).toMatch(/\[kiln\] 7 kernel signature\(s\)/)
  expect(first).toMatch(/\[kiln\] worker bundle: 7 kernel signature\(s\)/)

  const run = await runInChromium()
  expect(run.results.map((r) => r.name)).toEqual(['brighten', 'grayscale', 'blur', 'mandelbrot', 'histogram', 'mean f64', 'mean i32'])
  for (const r of run.results) {
    expect(r.tier, r.name).toBe('aot')
    expect(r.same, r.name).toBe(true)
  }
  expect(run.worker).toEqual({ tier: 'aot', same: true })
  // The page and the worker each read one pack, once (both bundles hold the same seven
  // artifacts, so it is the same content-hashed file); no compiler.
  const packs = run.requests.filter((u) => u.endsWith('.kiln'))
  expect(packs).toHaveLength(2)
  const compiler = compilerChunks(join(dir, 'dist', 'assets'))
  expect(compiler.length).toBeGreaterThan(0)
  expect(run.requests.filter((u) => compiler.some((c) => u.endsWith(`/${c}`)))).toEqual([])

  // LUMA is read by grayscale and histogram only: the rebuild compiles those two (the worker
  // bundle is built first; the page's bundle then finds them in the store).
  const config = join(dir, 'src', 'config.js')
  writeFileSync(config, readFileSync(config, 'utf8').replace('[0.2126, 0.7152, 0.0722]', '[0.299, 0.587, 0.114]'))
  const second = await buildPlayground()
  const compiled = [...second.matchAll(/^(\S+)\s+\(.*?\) => \S+\s+\d+\s+[\d.]+\s+compiled$/gm)].map((m) => m[1])
  expect(compiled.sort()).toEqual(['src/kernels/image.js#grayscale', 'src/kernels/stats.js#histogram'])
  expect(second).toMatch(/\[kiln\] worker bundle: 7 kernel signature\(s\): 2 compiled, 5 from the cache/)
  expect(second).toMatch(/\[kiln\] 7 kernel signature\(s\): 0 compiled, 7 from the cache/)
  const after = await runInChromium()
  for (const r of after.results) {
    expect(r.tier, r.name).toBe('aot')
    expect(r.same, r.name).toBe(true)
  }
})
