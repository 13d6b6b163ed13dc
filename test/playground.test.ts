// The playground, built with real Vite and the plugin, served by `vite preview` and run in
// Chromium: every kernel precompiled (tier aot) and equal to plain JS, in the page and in a
// module worker, with one artifact pack per bundle and no compiler loaded. Then a folded
// constant is edited and the app rebuilt: exactly the kernels that read it are recompiled.

import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'vite'
import { afterAll, expect, test, vi } from 'vitest'
import { compilerChunks, launchBrowser, visitPreview } from './support/browser.js'
import { startDevServer, waitUntil } from './support/dev.js'

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

async function runInChromium(): Promise<{ results: Row[]; worker: { tier: string; same: boolean }; tone: { tier: string; drawn: boolean }; requests: string[] }> {
  const { values, requests } = await visitPreview({ root: dir }, ['__playground', '__playgroundWorker', '__tone'])
  return { results: values.__playground as Row[], worker: values.__playgroundWorker as { tier: string; same: boolean }, tone: values.__tone as { tier: string; drawn: boolean }, requests }
}

test('the playground runs precompiled kernels in Chromium; a constant edit recompiles exactly its readers', async () => {
  rmSync(dir, { recursive: true, force: true })
  cpSync(join(root, 'playground'), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
  const first = await buildPlayground()
  // Every signature, with the range variants a page would otherwise never get (no compiler there).
  expect(first).toMatch(/\[kiln\] 8 kernel signature\(s\) \+ \d+ range variant\(s\)/)
  expect(first).toMatch(/\[kiln\] worker bundle: 7 kernel signature\(s\) \+ \d+ range variant\(s\)/)

  const run = await runInChromium()
  expect(run.results.map((r) => r.name)).toEqual(['brighten', 'grayscale', 'blur', 'mandelbrot', 'histogram', 'mean f64', 'mean i32'])
  for (const r of run.results) {
    expect(r.tier, r.name).toBe('aot')
    expect(r.same, r.name).toBe(true)
  }
  expect(run.worker).toEqual({ tier: 'aot', same: true })
  // The live panel's pixels are an ImageData in kernel memory (allocImageData), drawn as they are.
  expect({ tier: run.tone.tier, drawn: run.tone.drawn }).toEqual({ tier: 'aot', drawn: true })
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
  // Report rows: kernel, signature (a variant's guards in brackets), bytes, ms, compiled or hit.
  const rows = [...second.matchAll(/^(\S+)\s+\(.*?\) => \S+(?: \[.*\])?\s+\d+\s+[\d.-]+\s+(compiled|hit)$/gm)]
  const compiled = rows.filter((m) => m[2] === 'compiled').map((m) => m[1])
  expect([...new Set(compiled)].sort()).toEqual(['src/kernels/image.js#grayscale', 'src/kernels/stats.js#histogram'])
  expect(second).toMatch(new RegExp(`\\[kiln\\] worker bundle: 7 kernel signature\\(s\\) \\+ \\d+ range variant\\(s\\): ${compiled.length} compiled`))
  expect(second).toMatch(/\[kiln\] 8 kernel signature\(s\) \+ \d+ range variant\(s\): 0 compiled/)
  const after = await runInChromium()
  for (const r of after.results) {
    expect(r.tier, r.name).toBe('aot')
    expect(r.same, r.name).toBe(true)
  }
})

test('under vite dev the playground runs compiled code from the server; a helper edit reloads it with fresh kernels, never stale', async () => {
  const devDir = join(root, 'test', '.tmp', `playground-dev-${process.pid}`)
  rmSync(devDir, { recursive: true, force: true })
  cpSync(join(root, 'playground'), devDir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
  const { server } = await startDevServer({ dir: devDir })
  const browser = await launchBrowser()
  try {
    const page = await browser.context.newPage()
    await page.goto(server.resolvedUrls!.local[0])
    const rows = (): Promise<Row[] | undefined> => page.evaluate(() => (window as unknown as { __playground?: Row[] }).__playground)
    const worker = (): Promise<{ tier: string; same: boolean } | undefined> => page.evaluate(() => (window as unknown as { __playgroundWorker?: { tier: string; same: boolean } }).__playgroundWorker)
    const first = (await waitUntil(rows, (r) => r !== undefined, 60_000))!
    for (const r of first) expect([r.name, r.tier, r.same]).toEqual([r.name, 'aot', true])
    expect(await waitUntil(worker, (w) => w !== undefined, 30_000)).toEqual({ tier: 'aot', same: true })
    // clamp (behind lib/index.js) is used by the kernels and by their plain twins: Vite reloads the
    // page, and each kernel must equal its twin again, from compiled code.
    const color = join(devDir, 'src/lib/color.js')
    await page.evaluate(() => ((window as unknown as { __playground?: unknown }).__playground = undefined))
    writeFileSync(color, readFileSync(color, 'utf8').replace('x > hi ? hi : x', 'x > hi ? hi - 3 : x'))
    const after = (await waitUntil(rows, (r) => r !== undefined, 60_000))!
    for (const r of after) expect([r.name, r.tier, r.same]).toEqual([r.name, 'aot', true])
  } finally {
    await browser.close()
    await server.close()
    rmSync(devDir, { recursive: true, force: true })
  }
})
