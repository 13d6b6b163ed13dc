// Dev-loop figures on the playground under a real Vite dev server and headless Chromium, and on
// the dev fixture under `vitest watch`:
//  - first navigation until every kernel of the page runs compiled code, cold server (empty
//    store, fresh server) and warm server (transforms done, a new browser context each time);
//  - helper edit → the page shows the new result from compiled code (a hot swap, no reload),
//    split into the recompile, the rest of the server's part (re-transform, keys, event), the
//    page's swap (fetch, compile, instantiate) and the rest (file watcher, delivery, redraw);
//  - comment edit → the server has decided the page is current (no recompile, no event);
//  - `vitest watch` rerun after a helper edit, until the rerun's test wrote its results.
// Standalone: `node bench/dev-bench.mjs [--quick]`.

import { spawn } from 'node:child_process'
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { createServer } from 'vite'
import { median } from './measure.mjs'

const repo = fileURLToPath(new URL('..', import.meta.url))
const chromiumPath = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium'
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

const spread = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const quietLogger = { info() {}, warn() {}, warnOnce() {}, error() {}, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false }

function copy(from, to) {
  rmSync(to, { recursive: true, force: true })
  cpSync(from, to, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
}

async function startServer(root) {
  const server = await createServer({ root, configFile: join(root, 'vite.config.js'), customLogger: quietLogger, server: { host: '127.0.0.1', port: 0 } })
  await server.listen()
  return { server, url: server.resolvedUrls.local[0], api: server.config.plugins.find((p) => p.name === 'kiln').api }
}

/** Navigates a new context (a new profile: no HTTP cache, no IndexedDB); ms from navigation start until every kernel ran compiled code. */
async function firstNavigation(browser, url) {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    const requests = []
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(url)
    await page.waitForFunction(() => window.__kilnReadyAt !== undefined, null, { timeout: 60_000, polling: 10 })
    const ms = await page.evaluate(() => window.__kilnReadyAt)
    if (requests.some((u) => /binaryen|@kiln_compiler|compiler\/dist\/(index|compile)\.js/.test(u))) throw new Error('the page loaded the compiler')
    return ms
  } finally {
    await context.close()
  }
}

export async function devBench({ edits = 10, colds = 3, warms = 10 } = {}) {
  const dir = join(repo, 'test', '.tmp', 'bench-dev-playground')
  const browser = await chromium.launch({ executablePath: chromiumPath, args: flags })
  const out = {}
  try {
    // Cold: a fresh copy (empty store), a fresh server, a fresh browser context.
    const cold = []
    for (let i = 0; i < colds; i++) {
      copy(join(repo, 'playground'), dir)
      const { server, url } = await startServer(dir)
      try {
        cold.push(await firstNavigation(browser, url))
      } finally {
        await server.close()
      }
    }
    out.cold = cold

    // Warm: the server has served the page once; each navigation is a new browser profile.
    const { server, url, api } = await startServer(dir)
    try {
      await firstNavigation(browser, url)
      const warm = []
      for (let i = 0; i < warms; i++) warm.push(await firstNavigation(browser, url))
      out.warm = warm
      out.compilesOnWarm = api.stats().compiled

      // Edits, on one page that stays open.
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => window.__tone !== undefined, null, { timeout: 60_000 })
      const curve = join(dir, 'src/lib/curve.js')
      const original = readFileSync(curve, 'utf8')
      const helper = []
      for (let i = 0; i < edits; i++) {
        const before = await page.evaluate(() => window.__tone.swaps)
        const summary = new Promise((resolve) => {
          const off = api.onUpdate((s) => {
            if (s.environment === 'client' && s.file === curve) {
              off()
              resolve(s)
            }
          })
        })
        const waitSwap = page.evaluate((n) => new Promise((resolve) => {
          const poll = () => (window.__tone.swaps > n ? resolve(window.__lastSwapMs) : requestAnimationFrame(poll))
          poll()
        }), before)
        const t0 = performance.now()
        writeFileSync(curve, original.replace('k * (1 - x)', `${(0.5 + i / 10).toFixed(2)} * k * (1 - x)`))
        const swapMs = await waitSwap
        const total = performance.now() - t0
        const s = await summary
        if (s.compiled !== 1 || !s.kernelOnly) throw new Error(`unexpected update: ${JSON.stringify(s)}`)
        helper.push({ total, server: s.ms, compile: s.compileMs, swap: swapMs })
        await sleep(200) // file watchers fold writes closer than ~100 ms
      }
      out.helper = helper

      const comment = []
      for (let i = 0; i < edits; i++) {
        const summary = new Promise((resolve) => {
          const off = api.onUpdate((s) => {
            if (s.environment === 'client' && s.file === curve) {
              off()
              resolve(performance.now())
            }
          })
        })
        const text = readFileSync(curve, 'utf8')
        const t0 = performance.now()
        writeFileSync(curve, text.replace(/^\/\/ A tone curve[^\n]*/, `// A tone curve (comment edit ${i}) only the \`tone\` kernel uses: an edit here is hot-swapped in place under \`vite dev\``))
        comment.push((await summary) - t0)
        await sleep(200)
      }
      out.comment = comment
      if (api.stats().compiled !== out.compilesOnWarm + edits) throw new Error('a comment edit recompiled')
      await context.close()
    } finally {
      await server.close()
    }
  } finally {
    await browser.close()
    rmSync(dir, { recursive: true, force: true })
  }
  out.vitest = await vitestReruns(edits)
  return out
}

/** `vitest watch` on the dev fixture: ms from a helper edit until the rerun's test wrote its results. */
async function vitestReruns(edits) {
  const dir = join(repo, 'test', '.tmp', 'bench-dev-vitest')
  copy(join(repo, 'test/fixtures/dev/app'), dir)
  const results = join(dir, 'results.json')
  const child = spawn(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'watch', '--root', dir], { cwd: dir, env: { ...process.env, KILN_RESULTS: results, CI: '1' }, stdio: 'ignore' })
  const waitFor = async (test, ms = 30_000) => {
    const t = performance.now()
    while (!test()) {
      if (performance.now() - t > ms) throw new Error('vitest watch did not rerun')
      await sleep(5)
    }
  }
  try {
    await waitFor(() => existsSync(results), 60_000)
    const color = join(dir, 'src/lib/color.js')
    const original = readFileSync(color, 'utf8')
    const times = []
    for (let i = 0; i < edits; i++) {
      rmSync(results)
      const t0 = performance.now()
      writeFileSync(color, original.replace('x > hi ? hi : x', `x > hi ? hi - ${i + 1} : x`))
      await waitFor(() => existsSync(results) && readFileSync(results, 'utf8').length > 0)
      times.push(performance.now() - t0)
      await sleep(200)
    }
    return times
  } finally {
    child.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

export function printDevBench(r, check, pad) {
  const total = r.helper.map((h) => h.total)
  const server = r.helper.map((h) => h.server - h.compile)
  const compile = r.helper.map((h) => h.compile)
  const swap = r.helper.map((h) => h.swap)
  const rest = r.helper.map((h) => h.total - h.server - h.swap)
  console.log(`\nDev loop: the playground under vite dev in Chromium, and the dev fixture under vitest watch (median ms, range in brackets)\n`)
  console.log(`  first navigation → every kernel compiled, cold server:  ${pad(median(r.cold).toFixed(0), 6)}  [${spread(r.cold)}]  (target ≤ 2000: ${check(median(r.cold) <= 2000)})`)
  console.log(`  first navigation → every kernel compiled, warm server:  ${pad(median(r.warm).toFixed(0), 6)}  [${spread(r.warm)}]  (target ≤ 500: ${check(median(r.warm) <= 500)}; ${r.compilesOnWarm} compiles)`)
  console.log(`  helper edit → new result from compiled code in the page: ${pad(median(total).toFixed(0), 5)}  [${spread(total)}]  (target ≤ 300: ${check(median(total) <= 300)})`)
  console.log(`      recompile (binaryen, on the compile worker):       ${pad(median(compile).toFixed(0), 5)}  [${spread(compile)}]`)
  console.log(`      rest of the server (re-transform, keys, event):    ${pad(median(server).toFixed(0), 5)}  [${spread(server)}]`)
  console.log(`      page swap (fetch, compile, instantiate):           ${pad(median(swap).toFixed(0), 5)}  [${spread(swap)}]`)
  console.log(`      rest (file watcher, delivery, redraw):             ${pad(median(rest).toFixed(0), 5)}  [${spread(rest)}]`)
  console.log(`  comment edit → server knows the page is current:         ${pad(median(r.comment).toFixed(0), 5)}  [${spread(r.comment)}]  (target ≤ 50: ${check(median(r.comment) <= 50)})`)
  console.log(`  vitest watch rerun after a helper edit:                  ${pad(median(r.vitest).toFixed(0), 5)}  [${spread(r.vitest)}]  (target ≤ 1000: ${check(median(r.vitest) <= 1000)})`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick')
  const r = await devBench(quick ? { edits: 3, colds: 1, warms: 3 } : {})
  printDevBench(r, (ok) => (ok ? 'met' : 'MISSED'), (s, n) => String(s).padStart(n))
}
