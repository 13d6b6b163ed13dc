// Build figures: a generated app of 200 kernels across 100 files, built with Vite without Kiln,
// with Kiln and a cold cache, and with Kiln and a warm cache; and the analysis time alone
// (discovery + cross-file resolution + folding, no compiling).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import kiln from '@kiln/vite'
import { build } from 'vite'
import { median } from './measure.mjs'

const here = dirname(fileURLToPath(import.meta.url))

export function generateApp(dir, files = 100) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'src/kernels'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/src/main.js"></script>')
  writeFileSync(join(dir, 'src/helpers.js'), `export function clamp(x, lo, hi) { return x < lo ? lo : x > hi ? hi : x }\nexport function mix(a, b, t) { return a + (b - a) * t }\n`)
  writeFileSync(join(dir, 'src/config.js'), `export const GAIN = 1.25\nexport const WEIGHTS = [0.25, 0.5, 0.25]\n`)
  const imports = []
  const calls = []
  for (let f = 0; f < files; f++) {
    writeFileSync(join(dir, `src/kernels/k${f}.js`), `import { kernel } from 'kiln'
import { clamp, mix } from '../helpers.js'
import { GAIN, WEIGHTS } from '../config.js'

export const scale${f} = kernel(function scale${f}(a, t) {
  for (let i = 0; i < a.length; i++) a[i] = clamp(mix(a[i], a[i] * GAIN, t) + ${f}, 0, 255)
}, { cache: true, signatures: ['(f64[], f64) => void'] })

export const blur${f} = kernel(function blur${f}(src, dst) {
  for (let i = 1; i + 1 < src.length; i++) dst[i] = WEIGHTS[0] * src[i - 1] + WEIGHTS[1] * src[i] + WEIGHTS[2] * src[i + 1] + ${f}
}, { cache: true, signatures: ['(f32[], f32[]) => void'] })
`)
    imports.push(`import { scale${f}, blur${f} } from './kernels/k${f}.js'`)
    calls.push(`scale${f}(a, 0.5); blur${f}(s, d)`)
  }
  writeFileSync(join(dir, 'src/main.js'), `${imports.join('\n')}\nconst a = new Float64Array(64), s = new Float32Array(64), d = new Float32Array(64)\n${calls.join('\n')}\n`)
}

async function timeBuild(dir, plugins) {
  const log = console.log
  console.log = () => {}
  const t0 = performance.now()
  try {
    // Module workers in ES format in every variant (kiln's compiler chunk uses top-level await).
    await build({ root: dir, configFile: false, logLevel: 'silent', plugins, worker: { format: 'es' }, build: { outDir: join(dir, 'dist'), emptyOutDir: true, target: 'esnext', chunkSizeWarningLimit: 100000 } })
  } finally {
    console.log = log
  }
  return performance.now() - t0
}

async function analysisMs(dir, files) {
  const { readModule } = await import('../packages/vite/dist/moduleInfo.js')
  const { findKernels } = await import('../packages/vite/dist/discover.js')
  const { collectDependencies } = await import('../packages/vite/dist/deps.js')
  const cache = new Map()
  const read = (id) => cache.get(id) ?? cache.set(id, readModule(id, readFileSync(id, 'utf8'))).get(id)
  const host = { load: async (source, importer) => (source.startsWith('.') ? read(resolve(dirname(importer), source)) : null) }
  const t0 = performance.now()
  let kernels = 0
  for (let f = 0; f < files; f++) {
    const info = read(join(dir, `src/kernels/k${f}.js`))
    for (const site of findKernels(info)) {
      await collectDependencies(site.fn, info, host)
      kernels++
    }
  }
  return { ms: performance.now() - t0, kernels }
}


/** One build in a fresh process (so no run inherits another's heap): its time in ms. */
function buildInProcess(dir, mode) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', dir, mode], { encoding: 'utf8' })
  return Number(out.trim().split('\n').at(-1))
}

/**
 * Builds an app without Kiln and with Kiln on a warm cache, alternating, `pairs` times, and with
 * Kiln on a cold cache `colds` times. This machine's timings drift by ±15% over seconds, so the
 * overhead is the median of each pair's ratio (a plain build and the warm build right after it).
 */
export async function measureBuilds(dir, { pairs = 9, colds = 3 } = {}) {
  const cacheDir = join(dir, '.kiln-cache')
  const cold = []
  for (let i = 0; i < colds; i++) {
    rmSync(cacheDir, { recursive: true, force: true })
    cold.push(buildInProcess(dir, 'kiln'))
  }
  const plain = []
  const warm = []
  for (let i = 0; i < pairs; i++) {
    plain.push(buildInProcess(dir, 'plain'))
    warm.push(buildInProcess(dir, 'kiln'))
  }
  return { plain: median(plain), cold: median(cold), warm: median(warm), overhead: median(warm.map((w, i) => w / plain[i] - 1)) }
}

export async function buildBench({ files = 100, pairs = 9, colds = 3 } = {}) {
  const dir = join(here, '..', 'test', '.tmp', 'bench-app')
  generateApp(dir, files)
  const times = await measureBuilds(dir, { pairs, colds })
  const analysis = await analysisMs(dir, files)
  rmSync(dir, { recursive: true, force: true })
  return { files, kernels: analysis.kernels, ...times, analysisMs: analysis.ms }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--one') {
    const dir = process.argv[3]
    const ms = await timeBuild(dir, process.argv[4] === 'kiln' ? [kiln({ cacheDir: join(dir, '.kiln-cache'), report: false })] : [])
    console.log(ms)
  } else {
    console.log(await buildBench())
  }
}
