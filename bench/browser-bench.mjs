// The browser table of `pnpm bench`: the playground built with the plugin (precompiled
// artifacts, tier `aot`), served by `vite preview` on 127.0.0.1 and opened in Chromium, which
// times every kernel against its plain-JS twin with the page's own arrays (copied into kernel
// memory per call) and with arrays from alloc() (zero-copy). Each page load is a fresh tab of
// a fresh browser; figures are medians over the loads, with the spread.

import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { build, preview } from 'vite'
import { chromium } from 'playwright-core'
import { geomean, median } from './measure.mjs'

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export async function browserBench({ loads = 5, chromiumPath = '/usr/bin/chromium', extraFlags = [] } = {}) {
  const root = new URL('..', import.meta.url).pathname
  const dir = join(root, 'test', '.tmp', 'bench-browser')
  rmSync(dir, { recursive: true, force: true })
  cpSync(join(root, 'playground'), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
  const log = console.log
  console.log = () => {}
  try {
    await build({ root: dir, logLevel: 'error', build: { chunkSizeWarningLimit: 100_000 } })
  } finally {
    console.log = log
  }
  const server = await preview({ root: dir, logLevel: 'error', preview: { host: '127.0.0.1', port: 0, strictPort: false } })
  const url = server.resolvedUrls.local[0]
  const runs = []
  try {
    for (let i = 0; i < loads; i++) {
      const browser = await chromium.launch({ executablePath: chromiumPath, args: [...flags, ...extraFlags] })
      try {
        const page = await browser.newPage()
        await page.goto(url)
        await page.waitForFunction(() => window.__playground !== undefined, null, { timeout: 120_000 })
        runs.push(await page.evaluate(() => window.__playground))
      } finally {
        await browser.close()
      }
    }
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return runs[0].map((first, k) => {
    const rows = runs.map((r) => r[k])
    if (rows.some((r) => !r.same || r.tier !== 'aot')) throw new Error(`${first.name}: not precompiled, or not the same result as JS, in the page`)
    const copied = rows.map((r) => r.jsMs / r.wasmMs)
    const zero = rows.map((r) => r.jsMs / r.zeroMs)
    return {
      name: first.name,
      jsMs: median(rows.map((r) => r.jsMs)),
      copied: { median: median(copied), min: Math.min(...copied), max: Math.max(...copied) },
      zero: { median: median(zero), min: Math.min(...zero), max: Math.max(...zero) },
    }
  })
}

export function printBrowserBench(rows, check) {
  const range = (r) => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
  console.log(`\nBrowser: the built playground in Chromium, precompiled (tier aot); JS time ÷ Kiln time, median (min–max) over page loads\n`)
  console.log(`${'kernel'.padEnd(12)}${'JS ms'.padStart(8)}  ${'page arrays (copied)'.padEnd(24)}${'alloc() arrays'.padEnd(24)}`)
  for (const r of rows) console.log(`${r.name.padEnd(12)}${r.jsMs.toFixed(2).padStart(8)}  ${range(r.copied).padEnd(24)}${range(r.zero).padEnd(24)}`)
  const g = geomean(rows.map((r) => r.copied.median))
  const slowest = rows.reduce((m, r) => (r.copied.median < m.copied.median ? r : m))
  console.log(`\n  geomean, page arrays:   ${g.toFixed(2)}×  (target ≥ 1.5×: ${check(g >= 1.5)})`)
  console.log(`  geomean, alloc arrays:  ${geomean(rows.map((r) => r.zero.median)).toFixed(2)}×`)
  console.log(`  slowest, page arrays:   ${slowest.name} ${slowest.copied.median.toFixed(2)}×  (target ≥ 1.0×: ${check(slowest.copied.median >= 1)})`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await browserBench({ loads: Number(process.env.KILN_BENCH_LOADS ?? 5), extraFlags: process.env.KILN_BENCH_JS_FLAGS ? [`--js-flags=${process.env.KILN_BENCH_JS_FLAGS}`] : [] })
  printBrowserBench(rows, (ok) => (ok ? 'met' : 'MISSED'))
}
