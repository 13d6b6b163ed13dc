// The browser store in a real Chromium: a page built with real Vite compiles its kernel at run
// time and keeps it in IndexedDB; the next load is served from there; a corrupt entry is a miss
// with a warning and a correct recompile.

import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build, preview, type PreviewServer } from 'vite'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchBrowser } from './support/browser.js'

const root = resolve(import.meta.dirname, '..')
const outDir = join(root, 'test', '.tmp', `idb-${process.pid}`)
let server: PreviewServer
let url = ''
let browser: Awaited<ReturnType<typeof launchBrowser>>

beforeAll(async () => {
  await build({ root: join(root, 'test/fixtures/browser/idb'), logLevel: 'error', build: { outDir, emptyOutDir: true, target: 'esnext', chunkSizeWarningLimit: 20000 } })
  server = await preview({ root: join(root, 'test/fixtures/browser/idb'), logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } })
  url = server.resolvedUrls!.local[0]
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  rmSync(outDir, { recursive: true, force: true })
})

/** The chunk Vite makes of @kiln/compiler (its dist/index.js, with binaryen inside). */
const compilerChunk = /\/assets\/dist-[\w-]+\.js$/

interface PageRun { tier: string; y: string[]; plain: string[]; stats: { compiles: number; storeHits: number; misses: number } }

async function loadAndRun(page: import('playwright-core').Page): Promise<PageRun> {
  await page.goto(url)
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true)
  return page.evaluate(() => (window as unknown as { __run: () => Promise<PageRun> }).__run())
}

describe('IndexedDB store', () => {
  test('a kernel compiled in a page is served from IndexedDB on the next load', async () => {
    const page = await browser.context.newPage()
    const warnings: string[] = []
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()))
    const requested: string[] = []
    page.on('request', (r) => requested.push(r.url()))
    const first = await loadAndRun(page)
    expect(first.tier).toBe('compiled')
    // A compile fetches the compiler chunk (binaryen).
    expect(requested.filter((u) => compilerChunk.test(u)).length).toBe(1)
    expect(first.stats.compiles).toBeGreaterThan(0)
    expect(first.y).toEqual(first.plain)

    const second = await loadAndRun(page)
    expect(second.tier).toBe('store')
    expect(second.stats.compiles).toBe(0)
    expect(second.stats.storeHits).toBeGreaterThan(0)
    expect(second.y).toEqual(second.plain)
    expect(warnings).toEqual([])

    // Flip one byte in every stored entry: each is a miss with one warning, then recompiled.
    const flipped = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open('kiln-cache')
        r.onsuccess = () => ok(r.result)
        r.onerror = () => fail(r.error)
      })
      const tx = db.transaction('entries', 'readwrite')
      const store = tx.objectStore('entries')
      const keys = await new Promise<IDBValidKey[]>((ok) => {
        const r = store.getAllKeys()
        r.onsuccess = () => ok(r.result)
      })
      for (const key of keys) {
        const bytes = await new Promise<Uint8Array>((ok) => {
          const r = store.get(key)
          r.onsuccess = () => ok(r.result)
        })
        const copy = new Uint8Array(bytes)
        copy[copy.length - 5] ^= 0x40
        store.put(copy, key)
      }
      await new Promise((ok) => (tx.oncomplete = ok))
      db.close()
      return keys.length
    })
    expect(flipped).toBeGreaterThan(0)
    const third = await loadAndRun(page)
    expect(third.tier).toBe('compiled')
    expect(third.y).toEqual(third.plain)
    expect(warnings.filter((w) => w.includes('KILN_CACHE_CORRUPT'))).toHaveLength(flipped)

    const fourth = await loadAndRun(page)
    expect(fourth.tier).toBe('store')
    await page.close()
  })

  test('a page whose kernels come from the store never loads the compiler', async () => {
    const page = await browser.context.newPage()
    await loadAndRun(page) // make sure the store is warm
    const requested: string[] = []
    page.on('request', (r) => requested.push(r.url()))
    const run = await loadAndRun(page)
    expect(run.tier).toBe('store')
    // The compiler chunk (binaryen, ~13 MB) is fetched only by a compile.
    expect(requested.filter((u) => compilerChunk.test(u))).toEqual([])
    expect(requested.length).toBeGreaterThan(0)
    await page.close()
  })
})
