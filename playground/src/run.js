// Runs every playground kernel on the same inputs as its plain-JS twin: results compared value
// for value (Object.is), timings as the best of several runs. Used by the page and the worker.
import { alloc, free } from 'kiln'
import { blur, blurJs, brighten, brightenJs, grayscale, grayscaleJs } from './kernels/image.js'
import { mandelbrot, mandelbrotJs } from './kernels/fractal.js'
import { histogram, histogramJs, mean, meanJs } from './kernels/stats.js'

export const WIDTH = 512
export const HEIGHT = 320

/** A deterministic test image: gradients plus a little noise. */
export function testImage() {
  const px = new Uint8ClampedArray(WIDTH * HEIGHT * 4)
  let seed = 12345
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const noise = (seed >>> 24) / 16
      const i = (y * WIDTH + x) * 4
      px[i] = (x / WIDTH) * 255 + noise
      px[i + 1] = (y / HEIGHT) * 255 - noise
      px[i + 2] = 128 + 100 * Math.sin(x / 17 + y / 23)
      px[i + 3] = 255
    }
  }
  return px
}

const same = (a, b) => (ArrayBuffer.isView(a) ? a.length === b.length && a.every((v, i) => Object.is(v, b[i])) : Object.is(a, b))

/** Milliseconds per call: calls repeated until 20 ms pass (browsers' clocks are coarse), best of 3. */
function timePerCall(f) {
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    let calls = 0
    const t = performance.now()
    let elapsed = 0
    while (elapsed < 20) {
      f()
      calls++
      elapsed = performance.now() - t
    }
    best = Math.min(best, elapsed / calls)
  }
  return best
}

/** name, kernel, plain twin, signature, and a function making fresh arguments. */
export const cases = [
  ['brighten', brighten, brightenJs, '(u8c[], f64) => void', () => [testImage(), 12.5]],
  ['grayscale', grayscale, grayscaleJs, '(u8c[], f64) => void', () => [testImage(), 0.75]],
  ['blur', blur, blurJs, '(u8c[], u8c[], i32) => void', () => [testImage(), new Uint8ClampedArray(WIDTH * HEIGHT * 4), WIDTH]],
  ['mandelbrot', mandelbrot, mandelbrotJs, '(u8c[], i32, f64, f64, f64) => void', () => [new Uint8ClampedArray(WIDTH * HEIGHT * 4), WIDTH, -0.6, 0, 3 / WIDTH]],
  ['histogram', histogram, histogramJs, '(u8c[], i32[]) => void', () => [testImage(), new Int32Array(32)]],
  ['mean f64', mean, meanJs, '(f64[]) => f64', () => [Float64Array.from(testImage())]],
  ['mean i32', mean, meanJs, '(i32[]) => f64', () => [Int32Array.from(testImage())]],
]

/** Waits until every kernel's declared signatures run compiled code (precompiled ones already do). */
export function ready() {
  return Promise.all(cases.map(([, k]) => k.ready()))
}

/**
 * Runs one case both ways; returns the row and the kernel's output arguments. Call after
 * `ready()`: a result counts as the same only when compiled code computed it, since a call on
 * the JS tier would hide stale or wrong wasm behind the right answer.
 */
export function runCase([name, k, plain, signature, makeArgs]) {
  const tier = k.tier(signature)
  const expectedArgs = makeArgs()
  const expected = plain(...expectedArgs)
  const gotArgs = makeArgs()
  const got = k(...gotArgs)
  const ok = tier !== 'js' && same(expected, got) && expectedArgs.every((a, i) => same(a, gotArgs[i]))
  const jsArgs = makeArgs()
  const wasmArgs = makeArgs()
  // The same arrays in kernel memory (alloc): nothing is copied in or out.
  const zeroArgs = makeArgs().map((a) => {
    if (!ArrayBuffer.isView(a)) return a
    const v = alloc(a.constructor, a.length)
    v.set(a)
    return v
  })
  const jsMs = timePerCall(() => plain(...jsArgs))
  const wasmMs = timePerCall(() => k(...wasmArgs))
  const zeroMs = timePerCall(() => k(...zeroArgs))
  zeroArgs.forEach((a) => ArrayBuffer.isView(a) && free(a))
  return { row: { name, signature, tier, same: ok, jsMs, wasmMs, zeroMs }, args: gotArgs }
}
