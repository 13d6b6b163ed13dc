// The main job for now: a Node demo that runs a few kernels, checks them against plain JS and
// prints their results and timings. (The Vite playground replaces it in a later issue.)

import { alloc, free, kernel } from 'kiln'

function brighten(px, amount) {
  for (let i = 0; i < px.length; i++) px[i] = clamp(px[i] * GAIN + amount, 0, 255)
}
function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x
}
const GAIN = 1.2

function mandelbrot(out, width, height, maxIter) {
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const x0 = (px / width) * 3.5 - 2.5
      const y0 = (py / height) * 2 - 1
      let x = 0
      let y = 0
      let iter = 0
      while (x * x + y * y <= 4 && iter < maxIter) {
        const xt = x * x - y * y + x0
        y = 2 * x * y + y0
        x = xt
        iter++
      }
      out[py * width + px] = iter
    }
  }
}

function dot(a, b) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

const kernels = {
  brighten: kernel(brighten, { deps: { clamp, GAIN }, signatures: ['(u8c[], f64) => void'] }),
  mandelbrot: kernel(mandelbrot, { signatures: ['(i32[], i32, i32, i32) => void'] }),
  dot: kernel(dot, { signatures: ['(f64[], f64[]) => f64'] }),
}

const t0 = performance.now()
await Promise.all(Object.values(kernels).map((k) => k.ready()))
console.log(`compiled ${Object.keys(kernels).length} kernels in ${(performance.now() - t0).toFixed(0)} ms (compiler loaded on demand)\n`)

function best(f, runs = 15) {
  let min = Infinity
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    f()
    min = Math.min(min, performance.now() - t)
  }
  return min
}

function row(name, tier, result, jsMs, wasmMs, same) {
  console.log(`${name.padEnd(12)} ${tier.padEnd(9)} ${String(result).padEnd(22)} JS ${jsMs.toFixed(2).padStart(7)} ms   wasm ${wasmMs.toFixed(2).padStart(7)} ms   ${(jsMs / wasmMs).toFixed(2)}×   ${same ? 'same result as JS' : 'DIFFERENT FROM JS'}`)
}

{
  const n = 4_000_000
  const px = alloc(Uint8ClampedArray, n)
  const plain = new Uint8ClampedArray(n)
  for (let i = 0; i < n; i++) px[i] = plain[i] = (i * 31) & 255
  const js = best(() => brighten(plain.subarray(0, 1 << 20), 0))
  const wasm = best(() => kernels.brighten(px.subarray(0, 1 << 20), 0))
  const a = plain.slice(0, 4096)
  const b = px.slice(0, 4096)
  brighten(a, 10)
  kernels.brighten(b, 10)
  row('brighten', kernels.brighten.tier('(u8c[], f64)'), `checksum ${b.reduce((s, v) => s + v, 0)}`, js, wasm, a.every((v, i) => v === b[i]))
  free(px)
}
{
  const w = 400
  const h = 300
  const out = alloc(Int32Array, w * h)
  const plain = new Int32Array(w * h)
  const js = best(() => mandelbrot(plain, w, h, 100), 5)
  const wasm = best(() => kernels.mandelbrot(out, w, h, 100), 5)
  row('mandelbrot', kernels.mandelbrot.tier('(i32[], i32, i32, i32)'), `inside ${out.filter((v) => v === 100).length} px`, js, wasm, out.every((v, i) => v === plain[i]))
  free(out)
}
{
  const n = 1_000_000
  const a = alloc(Float64Array, n)
  const b = alloc(Float64Array, n)
  for (let i = 0; i < n; i++) {
    a[i] = Math.sin(i)
    b[i] = Math.cos(i * 0.5)
  }
  const js = best(() => dot(a, b))
  const wasm = best(() => kernels.dot(a, b))
  const r = kernels.dot(a, b)
  row('dot', kernels.dot.tier('(f64[], f64[])'), r.toFixed(9), js, wasm, Object.is(r, dot(a, b)))
  free(a)
  free(b)
}
