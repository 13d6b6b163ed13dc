// `pnpm bench`: ratios measured in one run on this machine.
//  1. per corpus kernel: compiled time vs plain JS, on zero-copy arrays and on copied arrays;
//  2. compile time per kernel (compiler loaded), and the compiler's load time (fresh processes);
//  3. dispatch overhead of a cached signature vs calling the wasm export directly;
//  4. cold starts, builds (bench/build-bench.mjs) and the dev loop (bench/dev-bench.mjs).
// `--quick` takes fewer samples; `--corpus` prints the corpus table alone.

import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { alloc, FileStore, free, kernel, reserveMemory } from 'kiln'
import { buildBench, measureBuilds } from './build-bench.mjs'
import { compileKernel } from '@kiln/compiler'
import { corpus, rng } from '../test/corpus/kernels.js'
import { printRealCode, realCodeTable } from './real/run.mjs'
import { printPeerTable, peerTable } from './peers/run.mjs'
import { geomean, median, timeCall } from './measure.mjs'

const SIZE = Number(process.env.KILN_BENCH_SIZE ?? 200_000)
const quick = process.argv.includes('--quick')

const fmt = (ms) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3))

function splitDeps(deps = {}) {
  const helpers = {}
  const constants = {}
  for (const [k, v] of Object.entries(deps)) (typeof v === 'function' ? (helpers[k] = v.toString()) : (constants[k] = v))
  return { helpers, constants }
}

const copyInto = (targets, sources) => targets.forEach((t, i) => ArrayBuffer.isView(t) && t.set(sources[i]))

async function kernelTable() {
  const rows = []
  for (const c of corpus) {
    const { helpers, constants } = splitDeps(c.deps)
    const input = { source: c.fn.toString(), deps: helpers, constants, signature: c.signature }
    compileKernel(input) // warm the compiler's own code paths
    const compileMs = median([0, 1, 2].map(() => {
      const t0 = performance.now()
      const r = compileKernel(input)
      if (!r.ok) throw new Error(`${c.name} does not compile`)
      return performance.now() - t0
    }))

    const k = kernel(c.fn, { deps: c.deps, signatures: [c.signature] })
    await k.ready()
    if (k.tier(c.signature) !== 'compiled') throw new Error(`${c.name}: wasm tier not ready`)
    const pristine = c.args(rng(7), SIZE)
    const jsArgs = pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    const copiedArgs = pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    const zeroArgs = pristine.map((a) => {
      if (!ArrayBuffer.isView(a)) return a
      const v = alloc(a.constructor, a.length)
      v.set(a)
      return v
    })
    // One call starts the variant for these inputs' value ranges; wait for it before timing.
    k(...copiedArgs)
    await k.ready()
    const time = (run, reset) => timeCall(run, reset, { quick, budgetMs: quick ? 150 : 600 })
    const js = time(() => c.fn(...jsArgs), () => copyInto(jsArgs, pristine))
    const zero = time(() => k(...zeroArgs), () => copyInto(zeroArgs, pristine))
    const copied = time(() => k(...copiedArgs), () => copyInto(copiedArgs, pristine))
    zeroArgs.forEach((a) => ArrayBuffer.isView(a) && free(a))
    const variants = k.specializations(c.signature).length
    rows.push({ name: c.name, variants, js, zero, copied, speedZero: js / zero, speedCopied: js / copied, compileMs })
  }
  return rows
}

function compilerLoadMs() {
  const script = `const t0 = performance.now(); await import('@kiln/compiler'); console.log(performance.now() - t0)`
  const runs = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()))
  return median(runs)
}

async function dispatchOverhead() {
  const N = quick ? 200_000 : 2_000_000
  const measure = (f) => {
    for (let i = 0; i < 3; i++) f(N / 10)
    return median([0, 1, 2, 3, 4].map(() => {
      const t0 = performance.now()
      f(N)
      return ((performance.now() - t0) * 1e6) / N
    }))
  }
  const out = []
  // Scalars: a cached (f64, f64) signature.
  {
    const add = (a, b) => a + b
    const k = kernel(add, { signatures: ['(f64, f64) => f64'] })
    await k.ready()
    const r = compileKernel({ source: add.toString(), signature: '(f64, f64) => f64' })
    const { instance } = await WebAssembly.instantiate(r.wasm, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } })
    const raw = instance.exports.kernel
    let sink = 0
    const viaKernel = measure((n) => { for (let i = 0; i < n; i++) sink += k(i, 1) })
    const direct = measure((n) => { for (let i = 0; i < n; i++) sink += raw(i, 1) })
    out.push({ what: '(f64, f64) => f64', viaKernel, direct, sink })
  }
  // A zero-copy array: pointer and length are passed, nothing is copied.
  {
    const first = (a) => a[0]
    const k = kernel(first, { signatures: ['(f64[]) => f64'] })
    await k.ready()
    const r = compileKernel({ source: first.toString(), signature: '(f64[]) => f64' })
    const { kernelMemory } = await import('kiln')
    const { instance } = await WebAssembly.instantiate(r.wasm, { env: { memory: kernelMemory().memory } })
    const raw = instance.exports.kernel
    const a = alloc(Float64Array, 16)
    let sink = 0
    const viaKernel = measure((n) => { for (let i = 0; i < n; i++) sink += k(a) })
    const direct = measure((n) => { for (let i = 0; i < n; i++) sink += raw(a.byteOffset, a.length) })
    out.push({ what: '(f64[]) => f64, zero-copy', viaKernel, direct, sink })
    free(a)
  }
  return out
}

function pad(s, n, right = false) {
  s = String(s)
  return right ? s.padEnd(n) : s.padStart(n)
}

// Room for the zero-copy inputs and the staging of copied ones, before anything is allocated.
reserveMemory(512 * 1024 * 1024)
const rows = await kernelTable()
console.log(`\nKernels: plain JS vs compiled (median ms per call, n=${SIZE}; speed-up = JS time / wasm time)\n`)
console.log(`${pad('kernel', 14, true)}${pad('JS ms', 10)}${pad('wasm 0-copy', 13)}${pad('×', 7)}${pad('wasm copied', 13)}${pad('×', 7)}${pad('copy ms', 9)}${pad('compile ms', 12)}`)
for (const r of rows) {
  // copy ms: what copying the arrays in (and the written ones out) adds to a call.
  console.log(`${pad(r.name, 14, true)}${pad(fmt(r.js), 10)}${pad(fmt(r.zero), 13)}${pad(r.speedZero.toFixed(2), 7)}${pad(fmt(r.copied), 13)}${pad(r.speedCopied.toFixed(2), 7)}${pad(fmt(Math.max(0, r.copied - r.zero)), 9)}${pad(fmt(r.compileMs), 12)}`)
}
// `--corpus`: this table alone (a quick check while working on the compiler).
if (process.argv.includes('--corpus')) process.exit(0)
// Real-style library code through kernel(fn), signatures detected as an app's calls give them.
const real = await realCodeTable({ quick })
console.log(`\nReal-style library code (bench/real): JS time ÷ Kiln time, through kernel(fn) with detected signatures\n`)
printRealCode(real)
// The same eight kernels through Kiln, AssemblyScript and jz (bench/peers).
const peerRows = await peerTable({ quick })
const gZero = geomean(rows.map((r) => r.speedZero))
const gCopied = geomean(rows.map((r) => r.speedCopied))
const minZero = rows.reduce((m, r) => (r.speedZero < m.speedZero ? r : m))
const medCompile = median(rows.map((r) => r.compileMs))
const loadMs = compilerLoadMs()
const dispatch = await dispatchOverhead()
const cold = coldStartTable()

/**
 * Cold start, each sample a fresh Node process timed from its first line to the first result
 * computed by compiled code: no cache (loads the compiler, compiles), a warm file store, and
 * the floor (instantiate the same bytes read from disk in a bare script).
 */
function coldStartTable() {
  const names = ['saxpy', 'mandelbrot', 'threshold', 'nbody', 'fannkuch']
  const script = new URL('./cold-start.mjs', import.meta.url).pathname
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'))
  const sample = (mode, name, env, extra = []) => JSON.parse(execFileSync(process.execPath, [script, mode, name, ...extra], { encoding: 'utf8', env: { ...process.env, ...env } }).trim())
  const rows = []
  for (const name of names) {
    const cache = join(dir, name)
    sample('store', name, { KILN_CACHE_DIR: cache }) // fills the store
    const store = new FileStore({ dir: cache })
    const general = store.list().map((e) => store.inspect(e.path)).find((d) => 'entry' in d && !d.entry.parts.variant)
    const wasmPath = join(dir, `${name}.wasm`)
    writeFileSync(wasmPath, general.entry.wasm)
    const runs = quick ? 3 : 5
    const measure = (mode, env, extra) => median(Array.from({ length: runs }, () => {
      const r = sample(mode, name, env, extra)
      if (mode === 'store' && r.tier !== 'store') throw new Error(`${name}: the warm run was served by ${r.tier}`)
      return r.ms
    }))
    rows.push({ name, cold: measure('nocache', {}), warm: measure('store', { KILN_CACHE_DIR: cache }), floor: measure('floor', {}, [wasmPath]) })
  }
  // Lookup and validation per entry, in this process: read, check, decode every stored entry.
  const all = names.flatMap((n) => {
    const store = new FileStore({ dir: join(dir, n) })
    return store.list().map((e) => ({ store, key: e.key }))
  })
  for (const { store, key } of all) store.getSync(key)
  const t0 = performance.now()
  const reps = 20
  for (let i = 0; i < reps; i++) for (const { store, key } of all) if (!store.getSync(key).entry) throw new Error('lookup failed')
  const lookupMs = (performance.now() - t0) / (reps * all.length)
  rmSync(dir, { recursive: true, force: true })
  return { rows, lookupMs, entries: all.length }
}

const check = (ok) => (ok ? 'met' : 'MISSED')
console.log(`\nSummary`)
console.log(`  corpus geomean speed-up, zero-copy:  ${gZero.toFixed(2)}×  (target ≥ 2.5×: ${check(gZero >= 2.5)})`)
console.log(`  corpus geomean speed-up, copied:     ${gCopied.toFixed(2)}×`)
console.log(`  slowest corpus kernel, zero-copy:    ${minZero.name} ${minZero.speedZero.toFixed(2)}×  (target ≥ 0.9×: ${check(minZero.speedZero >= 0.9)})`)
const gReal = geomean(real.map((r) => r.speedZero))
console.log(`  real-style code geomean, zero-copy:  ${gReal.toFixed(2)}×  (target ≥ 1.2×: ${check(gReal >= 1.2)}); copied ${geomean(real.map((r) => r.speedCopied)).toFixed(2)}×`)
const histogramRow = rows.find((r) => r.name === 'histogram')
const mandelbrotRow = rows.find((r) => r.name === 'mandelbrot')
console.log(`  histogram, zero-copy:                ${histogramRow.speedZero.toFixed(2)}×  (target ≥ 4×: ${check(histogramRow.speedZero >= 4)})`)
console.log(`  mandelbrot, zero-copy:               ${mandelbrotRow.speedZero.toFixed(2)}×  (target ≥ 1.6×: ${check(mandelbrotRow.speedZero >= 1.6)})`)
console.log(`  median compile, compiler loaded:     ${fmt(medCompile)} ms  (target ≤ 30 ms: ${check(medCompile <= 30)})`)
console.log(`  compiler load (fresh process):       ${fmt(loadMs)} ms`)
for (const d of dispatch) {
  const overhead = d.viaKernel - d.direct
  console.log(`  dispatch ${pad(d.what, 26, true)} ${d.viaKernel.toFixed(1)} ns/call via kernel, ${d.direct.toFixed(1)} ns direct: overhead ${overhead.toFixed(1)} ns  (target ≤ 150 ns: ${check(overhead <= 150)})`)
}

printPeerTable(peerRows, check)

console.log(`\nCold start: a fresh Node process until its first compiled result (median ms; anchor: Bodo 4.61 s cold → 0.52 s cached, 8.9×)\n`)
console.log(`${pad('kernel', 12, true)}${pad('no cache', 10)}${pad('warm store', 12)}${pad('floor', 8)}${pad('cold/warm', 11)}${pad('warm/floor', 12)}`)
for (const r of cold.rows) {
  console.log(`${pad(r.name, 12, true)}${pad(fmt(r.cold), 10)}${pad(fmt(r.warm), 12)}${pad(fmt(r.floor), 8)}${pad((r.cold / r.warm).toFixed(1) + '×', 11)}${pad((r.warm / r.floor).toFixed(2) + '×', 12)}`)
}
const coldRatio = median(cold.rows.map((r) => r.cold / r.warm))
const floorRatio = median(cold.rows.map((r) => r.warm / r.floor))
console.log(`\n  warm store vs cold compile (median):  ${coldRatio.toFixed(1)}× faster  (target ≥ 50×: ${check(coldRatio >= 50)})`)
console.log(`  warm store vs floor (median):         ${floorRatio.toFixed(2)}×  (target ≤ 2×: ${check(floorRatio <= 2)})`)
console.log(`  lookup + validation per entry:        ${cold.lookupMs.toFixed(3)} ms over ${cold.entries} entries  (target ≤ 1 ms: ${check(cold.lookupMs <= 1)})`)

// Build figures: the playground and a generated app of 200 kernels across 100 files.
const playgroundDir = join(new URL('..', import.meta.url).pathname, 'test', '.tmp', 'bench-playground')
rmSync(playgroundDir, { recursive: true, force: true })
cpSync(new URL('../playground', import.meta.url).pathname, playgroundDir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) })
const playground = await measureBuilds(playgroundDir, quick ? { pairs: 1, colds: 1 } : { pairs: 7, colds: 3 })
rmSync(playgroundDir, { recursive: true, force: true })
const big = await buildBench(quick ? { files: 100, pairs: 1, colds: 1 } : { files: 100, pairs: 9, colds: 3 })
const rate = big.kernels / ((big.cold - big.warm) / 1000)
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`
console.log(`\nBuilds with Vite, each in a fresh process (median ms): without Kiln, Kiln with a cold cache, Kiln with a warm cache\n`)
console.log(`${pad('app', 36, true)}${pad('plain', 9)}${pad('cold', 9)}${pad('warm', 9)}${pad('warm over plain', 17)}`)
console.log(`${pad('playground (7 kernel signatures)', 36, true)}${pad(fmt(playground.plain), 9)}${pad(fmt(playground.cold), 9)}${pad(fmt(playground.warm), 9)}${pad(pct(playground.overhead), 17)}`)
console.log(`${pad('generated (200 kernels, 100 files)', 36, true)}${pad(fmt(big.plain), 9)}${pad(fmt(big.cold), 9)}${pad(fmt(big.warm), 9)}${pad(pct(big.overhead), 17)}`)
console.log(`\n  warm Kiln build over the plain build (200 kernels, median of pairs):  ${pct(big.overhead)}  (target ≤ 15%: ${check(big.overhead <= 0.15)})`)
console.log(`  cold compile rate ((cold − warm) time, ${availableParallelism()} cores):                ${rate.toFixed(0)} kernels/s  (target ≥ 10: ${check(rate >= 10)})`)
console.log(`  analysis alone, 200 kernels:                                         ${fmt(big.analysisMs)} ms  (target ≤ 1000 ms: ${check(big.analysisMs <= 1000)})`)

// Browser and dev-loop figures (bench/browser-bench.mjs, bench/dev-bench.mjs): Chromium when it is there.
if (existsSync(process.env.KILN_CHROMIUM ?? '/usr/bin/chromium')) {
  const { browserBench, printBrowserBench } = await import('./browser-bench.mjs')
  printBrowserBench(await browserBench({ loads: quick ? 2 : 5, chromiumPath: process.env.KILN_CHROMIUM ?? '/usr/bin/chromium' }), check)
  const { devBench, printDevBench } = await import('./dev-bench.mjs')
  printDevBench(await devBench(quick ? { edits: 3, colds: 1, warms: 3 } : { edits: 10, colds: 3, warms: 10 }), check, pad)
} else {
  console.log('\nDev loop: skipped (no Chromium at /usr/bin/chromium; `apt-get install -y chromium`)')
}
