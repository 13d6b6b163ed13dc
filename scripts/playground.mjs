// The main job: builds the playground with Vite and @kiln/vite, serves the build with
// `vite preview` on 127.0.0.1, and (when Debian's Chromium is installed) opens it headless and
// prints what the page shows. `--once` stops after printing (for CI); otherwise it keeps serving.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, preview } from 'vite'

const root = fileURLToPath(new URL('../playground', import.meta.url))
const once = process.argv.includes('--once')
const chromiumPath = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium'

await build({ root, logLevel: 'warn', build: { chunkSizeWarningLimit: 100_000 } })
const server = await preview({ root, logLevel: 'warn', preview: { host: '127.0.0.1', port: Number(process.env.PORT ?? 4173) } })
const url = server.resolvedUrls.local[0]
console.log(`\nPlayground built with @kiln/vite, served at ${url}`)

let failed = false
if (existsSync(chromiumPath)) {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
  try {
    const page = await browser.newPage()
    const requests = []
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(url)
    await page.waitForFunction(() => window.__playground !== undefined && window.__playgroundWorker !== undefined, null, { timeout: 30_000 })
    const [results, worker] = await page.evaluate(() => [window.__playground, window.__playgroundWorker])
    console.log(`\nIn Chromium (headless), the page shows:\n`)
    console.log(`  ${'kernel'.padEnd(12)}${'tier'.padEnd(6)}${'same as JS'.padEnd(12)}${'JS ms'.padStart(8)}${'wasm ms'.padStart(9)}${'speed-up'.padStart(10)}`)
    for (const r of results) {
      console.log(`  ${r.name.padEnd(12)}${r.tier.padEnd(6)}${(r.same ? 'yes' : 'NO').padEnd(12)}${r.jsMs.toFixed(2).padStart(8)}${r.wasmMs.toFixed(2).padStart(9)}${`${(r.jsMs / r.wasmMs).toFixed(2)}×`.padStart(10)}`)
    }
    console.log(`\n  worker: mandelbrot ran as ${worker.tier}, ${worker.same ? 'same result as JS' : 'DIFFERENT FROM JS'}`)
    const packs = requests.filter((u) => u.endsWith('.kiln')).length
    // The compiler (with binaryen) is the one chunk of several megabytes; the page must not load it.
    const assets = join(root, 'dist', 'assets')
    const compilerChunks = readdirSync(assets).filter((f) => f.endsWith('.js') && statSync(join(assets, f)).size > 5_000_000)
    const compiler = requests.some((u) => compilerChunks.some((c) => u.endsWith(`/${c}`)))
    console.log(`  the page loaded ${packs} artifact pack(s) (page and worker) and ${compiler ? 'THE COMPILER' : 'no compiler'}`)
    failed = results.some((r) => !r.same || r.tier !== 'aot') || !worker.same || worker.tier !== 'aot' || compiler
  } finally {
    await browser.close()
  }
} else {
  console.log(`(Chromium is not installed at ${chromiumPath}; open the URL in a browser to see the page.)`)
}

if (once || failed) {
  await server.close()
  process.exit(failed ? 1 : 0)
}
console.log(`\nServing ${url} — Ctrl-C to stop.`)
