// The dev loop: a real Vite dev server on the dev fixture, Chromium through playwright-core, real
// file edits on disk. Every check compares what compiled code in the page (tier aot) returns with
// the app's current source run as plain JS in Node; "no reload" is a value kept in page state.
// The steps run in order on one server, as a developer's session would.

import { execFileSync } from 'node:child_process'
import { request } from 'node:http'
import { readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import type { KilnPluginApi } from '@kiln/vite'
import { launchBrowser } from './support/browser.js'
import { compilerRequests, copyApp, matches, nextUpdate, plainResults, repoRoot, startDevServer, waitUntil, type App, type Cases, type Case } from './support/dev.js'

const tmp = join(repoRoot, 'test', '.tmp', `dev-${process.pid}`)
let app: App
let server: ViteDevServer
let api: KilnPluginApi
let lines: string[]
let browser: Awaited<ReturnType<typeof launchBrowser>>
let page: Page
const requests: string[] = []

const cases = (): Promise<Cases> => page.evaluate(() => (window as unknown as { __compute(): Cases }).__compute())
const loadId = (): Promise<number> => page.evaluate(() => (window as unknown as { __loadId: number }).__loadId)
const fromWorker = (): Promise<Case> => page.evaluate(() => (window as unknown as { __worker(): Promise<Case> }).__worker())
const overlay = (): Promise<string | null> => page.evaluate(() => {
  const o = document.querySelector('vite-error-overlay')
  if (!o?.shadowRoot) return null
  const text = (s: string): string => o.shadowRoot!.querySelector(s)?.textContent ?? ''
  return [text('.plugin'), text('.file'), text('.message-body'), text('.frame')].join('\n')
})

async function openPage(url: string): Promise<void> {
  page = await browser.context.newPage()
  page.on('request', (r) => requests.push(r.url()))
  if (process.env.DEBUG_DEV) {
    page.on('console', (m) => console.log('PAGE', m.text()))
    page.on('pageerror', (m) => console.log('PAGEERROR', m.message))
    page.on('response', (r) => { if (r.status() >= 400) console.log('STATUS', r.status(), r.url()) })
    page.on('requestfailed', (r) => console.log('REQFAILED', r.url()))
    setTimeout(async () => console.log('LATER', lines.join('\n'), await page.evaluate(() => [document.body.innerHTML, (window as any).__ready, (window as any).__loadId]).catch(String)), 15000)
  }
  await page.goto(url)
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true, null, { timeout: 60_000, polling: 50 })
}

/** Waits until the page (and its worker) shows the current source's results from compiled code. */
async function expectCurrent(): Promise<Record<string, number>> {
  const expected = await plainResults(app, tmp)
  const { sum: _, ...perPage } = expected
  await waitUntil(cases, (c) => matches(c, perPage))
  await waitUntil(fromWorker, (w) => w.tier === 'aot' && Object.is(w.value, expected.brighten))
  return expected
}

beforeAll(async () => {
  app = copyApp(tmp, 'app')
  ;({ server, api, logger: { lines } } = await startDevServer(app))
  browser = await launchBrowser()
  await openPage(server.resolvedUrls!.local[0])
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('vite dev: compiled in Node, served, hot-swapped in place', () => {
  test('first navigation: every kernel runs compiled code from the server, in the page and its worker; no compiler is loaded', async () => {
    const expected = await plainResults(app, tmp)
    const got = await cases()
    for (const [name, c] of Object.entries(got)) {
      expect(c.tier, name).toBe('aot')
      expect(c.value, name).toBe(expected[name])
    }
    expect(await waitUntil(fromWorker, (w) => w.tier === 'aot', 30_000)).toEqual({ tier: 'aot', value: expected.brighten })
    expect(requests.some((u) => /\/@kiln\/wasm\/[0-9a-f]{64}\.wasm$/.test(u))).toBe(true)
    expect(compilerRequests(requests)).toEqual([])
  })

  test('a helper behind a two-step re-export chain is edited: the new result, without a reload, in the worker too', async () => {
    const id = await loadId()
    const update = nextUpdate(api, 'src/lib/color.js')
    await app.edit('src/lib/color.js', 'x > hi ? hi : x', 'x > hi ? hi - 1 : x')
    expect((await update).changed.map((c) => c.id)).toEqual(['src/kernels.js#brighten'])
    await expectCurrent()
    expect(await loadId()).toBe(id)
  })

  test('a helper reached through a namespace import is edited: the new result, without a reload', async () => {
    const id = await loadId()
    await app.edit('src/ramp.js', 'x * 0.5', 'x * 0.25 + 3')
    await expectCurrent()
    expect(await loadId()).toBe(id)
  })

  test('config constants, a number and an array, are edited: the new results, without a reload', async () => {
    const id = await loadId()
    await app.edit('src/config.js', 'GAIN = 1.5', 'GAIN = 1.25')
    await expectCurrent()
    await app.edit('src/config.js', 'TAPS = [1, 2, 3]', 'TAPS = [1, -2, 0.5]')
    await expectCurrent()
    expect(await loadId()).toBe(id)
  })

  test('a helper edit, then an edit of the kernel body: the result equals the current source', async () => {
    const id = await loadId()
    await app.edit('src/lib/color.js', 'x < lo ? lo', 'x < lo ? lo + 1')
    await expectCurrent()
    await app.edit('src/kernels.js', 'return clamp(x * GAIN, 0, 255)', 'return clamp(x * GAIN, 0, 200) + 0.5')
    const expected = await expectCurrent()
    expect((await cases()).brighten.value).toBe(expected.brighten)
    expect(await loadId()).toBe(id)
  })

  test('a comment edit in a helper file: no recompile and no event', async () => {
    const before = { swaps: await page.evaluate(() => (window as unknown as { __swaps: number }).__swaps), stats: api.stats() }
    const update = nextUpdate(api, 'src/lib/color.js')
    await app.edit('src/lib/color.js', '// Colour helpers.', '// Colour helpers, clamped.')
    const s = await update
    expect(s).toMatchObject({ changed: [], compiled: 0, event: false, error: null })
    expect(api.stats().compiled).toBe(before.stats.compiled)
    expect(api.stats().events).toBe(before.stats.events)
    expect(await page.evaluate(() => (window as unknown as { __swaps: number }).__swaps)).toBe(before.swaps)
  })

  test('two kernels share a helper and a third does not: editing it recompiles exactly two', async () => {
    const update = nextUpdate(api, 'src/shared.js')
    await app.edit('src/shared.js', 'return 2 * x', 'return 2 * x - 1')
    const s = await update
    expect(s.changed.map((c) => c.id).sort()).toEqual(['src/kernels.js#sharedA', 'src/kernels.js#sharedB'])
    expect(s.compiled).toBe(2)
    await expectCurrent()
  })

  test('an unsupported construct: the overlay names it, printed once, the old kernel answers; the fix clears it', async () => {
    const id = await loadId()
    const before = (await cases()).lone.value
    const broken = nextUpdate(api, 'src/kernels.js')
    await app.edit('src/kernels.js', 'return x * x\n', 'const o = { a: x }\n  return x * x\n')
    expect((await broken).error).toContain('KILN_OBJECT')
    const shown = await waitUntil(overlay, (o) => o !== null)
    const line = app.read('src/kernels.js').split('\n').findIndex((l) => l.includes('const o = {')) + 1
    expect(shown).toContain('kiln')
    expect(shown).toContain('KILN_OBJECT')
    expect(shown).toContain(`src/kernels.js:${line}:13`)
    expect((await cases()).lone).toEqual({ tier: 'aot', value: before })
    expect(lines.filter((l) => l.includes('KILN_OBJECT')).length).toBe(1)
    await app.edit('src/kernels.js', 'const o = { a: x }\n  return x * x\n', 'return x * x * 2\n')
    await waitUntil(overlay, (o) => o === null)
    await expectCurrent()
    expect(await loadId()).toBe(id)
  })

  test('a syntax error in a helper file points at the helper file; fixing it recovers', async () => {
    await app.edit('src/lib/color.js', 'return x < lo', 'return x <<< lo')
    const shown = await waitUntil(overlay, (o) => o !== null)
    expect(shown).toContain('src/lib/color.js:3:')
    expect(shown).toContain('KILN_SYNTAX')
    await app.edit('src/lib/color.js', 'return x <<< lo', 'return x < lo')
    await waitUntil(overlay, (o) => o === null)
    await expectCurrent()
  })

  test('a renamed dependency is a clear error; restoring it recovers', async () => {
    renameSync(join(app.dir, 'src/ramp.js'), join(app.dir, 'src/ramp-moved.js'))
    const shown = await waitUntil(overlay, (o) => o !== null)
    expect(shown).toContain('KILN_UNRESOLVED_IMPORT')
    expect(shown).toContain('./ramp.js')
    renameSync(join(app.dir, 'src/ramp-moved.js'), join(app.dir, 'src/ramp.js'))
    await waitUntil(overlay, (o) => o === null)
    await expectCurrent()
  })

  test('a file ordinary code also imports: Vite reloads the page as usual, and the kernel is fresh', async () => {
    const id = await loadId()
    await app.edit('src/scale.js', 'SCALE = 3', 'SCALE = 5')
    // A new page: a new load id, once its main module has run to the end.
    await waitUntil(() => page.evaluate(() => (window as unknown as { __ready?: boolean }).__ready === true && (window as unknown as { __loadId: number }).__loadId), (now) => now !== false && now !== id, 30_000)
    expect(await page.textContent('#status')).toBe('ready (scale 5)')
    await expectCurrent()
  })

  test('a signature no kernel declares: the server compiles it, records it, and the production build precompiles it', async () => {
    const expected = await plainResults(app, tmp)
    const sum = (): Promise<Case> => page.evaluate(() => (window as unknown as { __computeSum(): Case }).__computeSum())
    expect((await sum()).value).toBe(expected.sum) // the first call runs as plain JS while the server compiles
    expect(await waitUntil(sum, (c) => c.tier === 'aot')).toEqual({ tier: 'aot', value: expected.sum })
    const recorded = JSON.parse(readFileSync(join(app.dir, 'kiln.signatures.json'), 'utf8'))
    expect(recorded.kernels['src/kernels.js#sum']).toEqual(['(f64[])'])
    expect(lines.filter((l) => l.includes('new signature')).length).toBe(1)
    expect(compilerRequests(requests)).toEqual([])

    const { build } = await import('vite')
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await build({ root: app.dir, configFile: join(app.dir, 'vite.config.js'), logLevel: 'error', build: { outDir: 'dist', emptyOutDir: true } })
    } finally {
      log.mockRestore()
    }
    const manifest = JSON.parse(readFileSync(join(app.dir, 'dist/kiln-manifest.json'), 'utf8'))
    expect(Object.keys(manifest.kernels['src/kernels.js#sum'])).toEqual(['(f64[])'])
  })

  test('the artifact middleware serves only keys it produced, as wasm with an ETag; anything else under the prefix is a 404', async () => {
    const url = requests.find((u) => /\/@kiln\/wasm\/[0-9a-f]{64}\.wasm$/.test(u))!
    const { pathname } = new URL(url)
    const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> => new Promise((resolve, reject) => {
      const { port } = new URL(server.resolvedUrls!.local[0])
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }))
      })
      req.on('error', reject)
      req.end()
    })
    const ok = await get(pathname)
    expect(ok.status).toBe(200)
    expect(ok.headers['content-type']).toBe('application/wasm')
    expect(ok.headers['cache-control']).toBe('no-cache')
    expect(ok.headers.etag).toBe(`"${pathname.slice(-69, -5)}"`)
    expect(WebAssembly.validate(new Uint8Array(ok.bytes))).toBe(true)
    expect((await get(pathname, { 'If-None-Match': String(ok.headers.etag) })).status).toBe(304)
    for (const path of ['/@kiln/wasm/../../package.json', '/@kiln/wasm/..%2f..%2fpackage.json', '/@kiln/../vite.config.js', `/@kiln/wasm/${'0'.repeat(64)}.wasm`, '/@kiln/wasm/', '/@kiln/compile']) {
      expect((await get(path)).status, path).toBe(404)
    }
  })

  test('server-side rendering in the dev server: ssrLoadModule runs compiled code, fresh after an edit', async () => {
    const load = async (): Promise<Cases> => ((await server.ssrLoadModule('/src/cases.js')) as { compute(): Cases }).compute()
    const perPage = async (): Promise<Record<string, number>> => {
      const { sum: _, ...rest } = await plainResults(app, tmp)
      return rest
    }
    const before = await perPage()
    expect(matches(await load(), before)).toBe(true)
    await app.edit('src/shared.js', 'return 2 * x - 1', 'return 2 * x - 2')
    const after = await perPage()
    expect(after.sharedA).not.toBe(before.sharedA)
    await waitUntil(load, (c) => matches(c, after))
  })

  test('a restarted server with a warm store compiles nothing, and a new browser profile never loads the compiler', async () => {
    await browser.close()
    await server.close()
    ;({ server, api, logger: { lines } } = await startDevServer(app))
    browser = await launchBrowser()
    requests.length = 0
    await openPage(server.resolvedUrls!.local[0])
    await expectCurrent()
    expect(api.stats().compiled).toBe(0)
    expect(api.stats().fromStore).toBeGreaterThan(0)
    expect(compilerRequests(requests)).toEqual([])
    // One store per project: the CLI, run from the app, lists what the dev server compiled.
    const ls = execFileSync(process.execPath, [join(repoRoot, 'packages/kiln/bin/kiln.mjs'), 'cache', 'ls'], { cwd: app.dir, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: '' } })
    for (const id of ['brighten', 'ramp', 'taps', 'sharedA', 'sharedB', 'lone', 'scaled', 'sum']) expect(ls).toContain(`src/kernels.js#${id}`)
  })
})
