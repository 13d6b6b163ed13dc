// A built app whose kernel packs fail in the browser — missing (404), truncated, altered, or
// stalled — still renders: each affected kernel runs as plain JS with JS's results, one console
// error names the kernel, the artifact and the cause, and the compiler is never fetched.

import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Route } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { compilerChunks, launchBrowser } from './support/browser.js'

const root = resolve(import.meta.dirname, '..')
const dir = join(root, 'test', '.tmp', `pack-faults-${process.pid}`)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Result { tier: string; got: unknown; expected: unknown }

beforeAll(async () => {
  cpSync(join(root, 'test/fixtures/plugin/app'), dir, { recursive: true })
  // A short wait for a stalled pack, so the test does not wait the default 5 s.
  writeFileSync(join(dir, 'vite.config.js'), "import kiln from '@kiln/vite'\n\nexport default { plugins: [kiln({ report: false, artifactTimeout: 1500 })], logLevel: 'warn', build: { target: 'esnext' } }\n")
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await build({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'error', build: { outDir: 'dist', emptyOutDir: true } })
  } finally {
    log.mockRestore()
  }
}, 120_000)

async function visit(fault: (route: Route) => Promise<void>): Promise<{ results: Record<string, Result>; worker: Result; errors: string[]; requests: string[] }> {
  const { preview } = await import('vite')
  const server = await preview({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'error', preview: { host: '127.0.0.1', port: 0 } })
  const browser = await launchBrowser()
  try {
    await browser.context.route('**/*.kiln', fault)
    const page = await browser.context.newPage()
    const errors: string[] = []
    const requests: string[] = []
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(server.resolvedUrls!.local[0])
    await page.waitForFunction(() => (window as unknown as Record<string, unknown>).__results !== undefined && (window as unknown as Record<string, unknown>).__workerResult !== undefined, null, { timeout: 30_000 })
    const results = await page.evaluate(() => (window as unknown as Record<string, unknown>).__results) as Record<string, Result>
    const worker = await page.evaluate(() => (window as unknown as Record<string, unknown>).__workerResult) as Result
    return { results, worker, errors, requests }
  } finally {
    await browser.close()
    await server.close()
  }
}

function expectPlainJs(r: { results: Record<string, Result>; worker: Result; requests: string[] }, everyKernel: boolean): void {
  const all = [...Object.values(r.results), r.worker]
  for (const x of all) expect(x.got).toEqual(x.expected)
  if (everyKernel) for (const x of all) expect(x.tier).toBe('js')
  else expect(all.some((x) => x.tier === 'js')).toBe(true)
  const compiler = compilerChunks(join(dir, 'dist/assets'))
  expect(r.requests.filter((u) => compiler.some((c) => u.endsWith(c)))).toEqual([])
}

function expectErrors(errors: string[], cause: RegExp): void {
  const ours = errors.filter((e) => e.includes('KILN_ARTIFACT'))
  expect(ours.length).toBeGreaterThan(0)
  for (const e of ours) {
    expect(e).toMatch(/kernel src\/[\w/]+\.js#\w+ \(/)
    expect(e).toMatch(/\.kiln/)
    expect(e).toMatch(cause)
  }
  // One line per kernel and signature, not one per call.
  expect(new Set(ours).size).toBe(ours.length)
}

describe('a page whose kernel packs fail still renders, on plain JS', () => {
  test('missing (404)', async () => {
    const r = await visit((route) => route.fulfill({ status: 404, body: 'not here' }))
    expectPlainJs(r, true)
    expectErrors(r.errors, /HTTP 404/)
  }, 120_000)

  test('truncated', async () => {
    const r = await visit(async (route) => {
      const response = await route.fetch()
      const body = await response.body()
      await route.fulfill({ response, body: body.subarray(0, Math.floor(body.length / 3)) })
    })
    expectPlainJs(r, false)
    expectErrors(r.errors, /truncated/)
  }, 120_000)

  test('altered: one flipped bit in each artifact region never runs', async () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'dist/kiln-manifest.json'), 'utf8')) as { kernels: Record<string, Record<string, { file: string; offset: number; length: number }>> }
    const regions = Object.values(manifest.kernels).flatMap((k) => Object.values(k))
    expect(regions.length).toBeGreaterThan(0)
    const r = await visit(async (route) => {
      const response = await route.fetch()
      const body = Buffer.from(await response.body())
      const file = new URL(route.request().url()).pathname.replace(/^\//, '')
      const known = regions.filter((x) => x.file === file)
      for (const a of known) body[a.offset + Math.floor(a.length / 2)] ^= 0x10
      // (The worker's pack repeats artifacts the manifest files under the page's pack: flip a bit every 64 bytes.)
      if (known.length === 0) for (let i = 32; i < body.length; i += 64) body[i] ^= 0x10
      await route.fulfill({ response, body })
    })
    expectPlainJs(r, true)
    expectErrors(r.errors, /checksum/)
  }, 120_000)

  test('stalled: the wait ends after the configured time', async () => {
    const started = Date.now()
    const r = await visit(() => new Promise<void>(() => {}))
    expectPlainJs(r, true)
    expectErrors(r.errors, /no answer within 1500 ms/)
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 120_000)
})
