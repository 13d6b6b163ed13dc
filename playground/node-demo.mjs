// The main job for now: a Node demo that runs a few kernels from the test corpus, compiled,
// against the same functions as plain JS, and prints results and timings. (The Vite
// playground replaces it in a later issue.)

import { alloc, free, kernel, reserveMemory } from 'kiln'
import { corpus, rng } from '../test/corpus/kernels.js'

const picks = ['mandelbrot', 'boxBlur', 'threshold', 'matmul', 'dot', 'fnv1a']
const SIZE = 250_000
reserveMemory(64 * 1024 * 1024)

function best(f, reset, runs = 9) {
  let min = Infinity
  for (let i = 0; i < runs; i++) {
    reset()
    const t = performance.now()
    f()
    min = Math.min(min, performance.now() - t)
  }
  return min
}

const same = (a, b) => (ArrayBuffer.isView(a) ? a.length === b.length && a.every((v, i) => Object.is(v, b[i])) : Object.is(a, b))
const summary = (r, args) => {
  if (r !== undefined) return `returns ${typeof r === 'number' ? +r.toPrecision(10) : r}`
  const out = args.findLast((a) => ArrayBuffer.isView(a))
  return `output checksum ${out.reduce((s, v) => s + v, 0).toPrecision(8)}`
}

const t0 = performance.now()
const kernels = picks.map((name) => {
  const c = corpus.find((x) => x.name === name)
  return { c, k: kernel(c.fn, { deps: c.deps, signatures: [c.signature] }) }
})
await Promise.all(kernels.map(({ k }) => k.ready()))
console.log(`compiled ${kernels.length} kernels in ${(performance.now() - t0).toFixed(0)} ms (the compiler was loaded on demand)\n`)

for (const { c, k } of kernels) {
  const input = c.args(rng(11), SIZE)
  const plain = input.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
  const zero = input.map((a) => (ArrayBuffer.isView(a) ? alloc(a.constructor, a.length) : a))
  const reset = (args) => () => args.forEach((a, i) => ArrayBuffer.isView(a) && a.set(input[i]))
  reset(zero)()
  k(...zero) // starts the variant for these inputs' value ranges
  await k.ready()
  const jsMs = best(() => c.fn(...plain), reset(plain))
  const wasmMs = best(() => k(...zero), reset(zero))
  reset(plain)()
  reset(zero)()
  const expected = c.fn(...plain)
  const got = k(...zero)
  const ok = same(expected, got) && plain.every((a, i) => same(a, zero[i]))
  console.log(`${c.name.padEnd(11)} ${k.tier(c.signature).padEnd(9)} ${summary(got, zero).padEnd(34)} JS ${jsMs.toFixed(2).padStart(7)} ms  wasm ${wasmMs.toFixed(2).padStart(7)} ms  ${(jsMs / wasmMs).toFixed(2).padStart(5)}×  ${ok ? 'same result as JS' : 'DIFFERENT FROM JS'}`)
  zero.forEach((a) => ArrayBuffer.isView(a) && free(a))
}
