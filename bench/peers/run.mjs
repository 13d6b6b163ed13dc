// The peer table (issue 11): the eight classic kernels of kernels.js through Kiln, through
// AssemblyScript (its default build, with bounds checks, and an unchecked build) and through jz
// (a JS-subset → wasm compiler), in one run. Every array lives in the compiler's own wasm
// memory before timing, so no figure includes a copy; Kiln's copied figure is shown beside.
// Each peer's first result is compared with plain JS, element by element (Object.is).
//   node bench/peers/run.mjs [--quick] [--only name,name]

import { readFileSync } from 'node:fs'
import asc from 'assemblyscript/asc'
import jz from 'jz'
import { alloc, free, kernel, reserveMemory } from 'kiln'
import { rng } from '../../test/corpus/kernels.js'
import { geomean, same, timeCall } from '../measure.mjs'
import * as js from './kernels.js'

const filled = (Ctor, n, r, lo, hi) => Ctor.from({ length: n }, () => lo + (hi - lo) * r())

/** name, Kiln signature, and the inputs (typed arrays and numbers) in argument order. */
export const peerKernels = [
  { name: 'saxpy', signature: '(f64, f64[], f64[]) => void', args: (r) => [1.5, filled(Float64Array, 1 << 20, r, -100, 100), filled(Float64Array, 1 << 20, r, -100, 100)] },
  { name: 'dot', signature: '(f64[], f64[]) => f64', args: (r) => [filled(Float64Array, 1 << 20, r, -1, 1), filled(Float64Array, 1 << 20, r, -1, 1)] },
  { name: 'matmul', signature: '(f64[], f64[], f64[], i32) => void', args: (r) => [filled(Float64Array, 128 * 128, r, -1, 1), filled(Float64Array, 128 * 128, r, -1, 1), new Float64Array(128 * 128), 128] },
  { name: 'mandelbrot', signature: '(i32[], i32, i32, i32) => void', args: () => [new Int32Array(512 * 512), 512, 512, 100] },
  { name: 'boxBlur', signature: '(u8c[], u8c[], i32, i32) => void', args: (r) => [filled(Uint8ClampedArray, 512 * 512 * 4, r, 0, 256), new Uint8ClampedArray(512 * 512 * 4), 512, 512] },
  { name: 'nbody', signature: '(f64[], f64[], f64[], f64) => void', args: (r) => [filled(Float64Array, 256 * 3, r, -10, 10), filled(Float64Array, 256 * 3, r, -1, 1), filled(Float64Array, 256, r, 0.1, 2), 0.01] },
  { name: 'prefixSum', signature: '(f64[]) => void', args: (r) => [filled(Float64Array, 1 << 20, r, -10, 10)] },
  { name: 'histogram', signature: '(i32[], i32[]) => void', args: (r) => [filled(Int32Array, 1 << 20, r, -1e9, 1e9), new Int32Array(256)] },
]

/**
 * A peer prepares one kernel on its own memory: `call()` runs it on arrays already there,
 * `views` are those arrays seen from JS (for resetting inputs and reading results).
 */
const peers = {
  async kiln(c, pristine) {
    const k = kernel(js[c.name], { name: c.name, signatures: [c.signature] })
    const args = pristine.map((a) => (ArrayBuffer.isView(a) ? alloc(a.constructor, a.length).fill(0) : a))
    args.forEach((a, i) => ArrayBuffer.isView(a) && a.set(pristine[i]))
    await k.ready()
    k(...args) // starts the variant for these inputs' value ranges
    await k.ready()
    if (k.tier(c.signature) === 'js') throw new Error(`${c.name}: Kiln did not compile`)
    return { call: () => k(...args), views: args, dispose: () => args.forEach((a) => ArrayBuffer.isView(a) && free(a)) }
  },
  kilnCopied: async (c, pristine) => {
    const k = kernel(js[c.name], { name: c.name, signatures: [c.signature] })
    const args = pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    await k.ready()
    k(...args)
    await k.ready()
    if (k.tier(c.signature) === 'js') throw new Error(`${c.name}: Kiln did not compile`)
    return { call: () => k(...args), views: args }
  },
  asDefault: (c, pristine) => assemblyScript(c, pristine, false),
  asUnchecked: (c, pristine) => assemblyScript(c, pristine, true),
  async jz(c, pristine) {
    // jz types a parameter from its call sites inside the module, so the arrays are module
    // state handed to the kernel by an exported function, as in jz's own benchmarks. (Passed
    // in from JS, e.g. memory.Float64Array(x), its code takes the untyped path: 10–20× slower,
    // and mandelbrot and boxBlur write out of bounds.) jz has no Uint8ClampedArray: bytes are
    // a Uint8Array (the blur stores integers in range).
    const arrays = pristine.map((a, i) => (ArrayBuffer.isView(a) ? `a${i}` : null))
    const scalars = pristine.map((a, i) => (ArrayBuffer.isView(a) ? null : `s${i}`))
    const source = [
      js[c.name].toString(),
      ...pristine.map((a, i) => (arrays[i] ? `let a${i} = new ${a instanceof Uint8ClampedArray ? 'Uint8Array' : a.constructor.name}(${a.length})\nexport let view${i} = () => a${i}` : '')),
      `export let run = (${scalars.filter(Boolean).join(', ')}) => ${c.name}(${pristine.map((_, i) => arrays[i] ?? scalars[i]).join(', ')})`,
    ].join('\n')
    const { exports } = jz(source)
    const views = pristine.map((a, i) => (arrays[i] ? exports[`view${i}`]() : a))
    const scalarArgs = pristine.filter((a) => !ArrayBuffer.isView(a))
    return { call: () => exports.run(...scalarArgs), views }
  },
}

const asModules = new Map()
async function assemblyScript(c, pristine, unchecked) {
  if (!asModules.has(unchecked)) {
    const source = readFileSync(new URL('./kernels.as.ts', import.meta.url), 'utf8')
    const out = await asc.compileString({ 'kernels.ts': source }, { optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', uncheckedBehavior: unchecked ? 'always' : 'default' })
    if (out.error) throw new Error(`AssemblyScript: ${out.error.message}\n${out.stderr}`)
    asModules.set(unchecked, new WebAssembly.Module(out.binary))
  }
  const { exports } = new WebAssembly.Instance(asModules.get(unchecked), { env: { abort: () => { throw new Error('AssemblyScript abort') } } })
  const make = { Float64Array: exports.newF64, Int32Array: exports.newI32, Uint8ClampedArray: exports.newU8C }
  const ptrs = pristine.map((a) => (ArrayBuffer.isView(a) ? make[a.constructor.name](a.length) : a))
  // Views after every allocation: an allocation may grow (and so detach) the memory.
  const views = pristine.map((a, i) => {
    if (!ArrayBuffer.isView(a)) return a
    const dataStart = new Uint32Array(exports.memory.buffer, ptrs[i] + 4, 1)[0]
    return new a.constructor(exports.memory.buffer, dataStart, a.length)
  })
  return { call: () => exports[c.name](...ptrs), views }
}

export const peerNames = { kiln: 'Kiln', kilnCopied: 'Kiln copied', asDefault: 'AS default', asUnchecked: 'AS unchecked', jz: 'jz' }

export async function peerTable({ quick = false, only = null } = {}) {
  const rows = []
  for (const c of peerKernels) {
    if (only && !only.includes(c.name)) continue
    const pristine = c.args(rng(5))
    const reset = (views) => () => views.forEach((v, i) => ArrayBuffer.isView(v) && v.set(pristine[i]))
    const want = pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    const wantResult = js[c.name](...want)
    const jsArgs = pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    const row = { name: c.name, js: timeCall(() => js[c.name](...jsArgs), reset(jsArgs), { quick }), peers: {} }
    for (const [peer, prepare] of Object.entries(peers)) {
      let p
      try {
        p = await prepare(c, pristine)
      } catch (e) {
        row.peers[peer] = { error: e.message.split('\n')[0] }
        continue
      }
      reset(p.views)()
      let result
      try {
        result = p.call()
      } catch (e) {
        row.peers[peer] = { error: `the call throws ${e.message.split('\n')[0]}` }
        continue
      }
      const identical = (wantResult === undefined || same(result, wantResult)) && p.views.every((v, i) => !ArrayBuffer.isView(v) || same(v, want[i]))
      const ms = timeCall(p.call, reset(p.views), { quick })
      p.dispose?.()
      row.peers[peer] = { ms, speed: row.js / ms, identical }
    }
    rows.push(row)
  }
  return rows
}

export function printPeerTable(rows, check, log = console.log) {
  const names = Object.keys(peerNames)
  log(`\nPeers: eight classic kernels, data in each compiler's own wasm memory (Node); JS time ÷ peer time, ≠ where a result differs from plain JS\n`)
  log(`${'kernel'.padEnd(12)}${'JS ms'.padStart(8)}${names.map((n) => peerNames[n].padStart(14)).join('')}`)
  const cell = (p) => (!p ? '—' : p.error ? 'fails' : `${p.speed.toFixed(2)}${p.identical ? ' ' : '≠'}`)
  for (const r of rows) log(`${r.name.padEnd(12)}${r.js.toFixed(2).padStart(8)}${names.map((n) => cell(r.peers[n]).padStart(14)).join('')}`)
  const summary = {}
  for (const n of names) {
    const ok = rows.map((r) => r.peers[n]).filter((p) => p && !p.error)
    if (ok.length !== rows.length) continue
    summary[n] = { geomean: geomean(ok.map((p) => p.speed)), identical: ok.every((p) => p.identical) }
  }
  log(`${'geomean'.padEnd(20)}${names.map((n) => (summary[n] ? `${summary[n].geomean.toFixed(2)}${summary[n].identical ? ' ' : '≠'}` : '—').padStart(14)).join('')}`)
  for (const r of rows) for (const n of names) if (r.peers[n]?.error) log(`  ${peerNames[n]} ${r.name}: ${r.peers[n].error}`)
  const kiln = summary.kiln?.geomean ?? 0
  const others = Object.entries(summary).filter(([n]) => n !== 'kiln' && n !== 'kilnCopied')
  const identicalBest = Math.max(0, ...others.filter(([, s]) => s.identical).map(([, s]) => s.geomean))
  const fastest = Math.max(0, ...others.map(([, s]) => s.geomean))
  log(`\n  Kiln vs the best bit-identical peer:  ${kiln.toFixed(2)}× vs ${identicalBest.toFixed(2)}×  (target ahead: ${check(kiln > identicalBest)})`)
  log(`  fastest peer of any kind ÷ Kiln:       ${(fastest / kiln).toFixed(2)}  (target ≤ 1.2: ${check(fastest / kiln <= 1.2)})`)
  return summary
}

if (import.meta.url === `file://${process.argv[1]}`) {
  reserveMemory(128 * 1024 * 1024)
  const at = process.argv.indexOf('--only')
  const rows = await peerTable({ quick: process.argv.includes('--quick'), only: at > 0 ? process.argv[at + 1].split(',') : null })
  printPeerTable(rows, (ok) => (ok ? 'met' : 'MISSED'))
  process.exit(0)
}
