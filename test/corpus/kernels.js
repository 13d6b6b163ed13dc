// The differential corpus: kernels written as plain JS, each with a signature and a seeded
// input generator that mixes ordinary values with edge values. Tests run each kernel compiled
// and as plain JS and require identical results; the benchmark times both.

import { A, clamp, above, luma, sumRange, isOdd, GAIN, WEIGHTS } from './helpers.js'

/** Values that break naive compilers: NaN, signed zeros, infinities, huge, tiny, outside int32. */
export const edgeValues = [
  NaN, 0, -0, Infinity, -Infinity, 1e308, -1e308, 5e-324, -5e-324, 2.2250738585072014e-308,
  2147483647, 2147483648, -2147483648, -2147483649, 4294967295, 4294967296, 4294967297,
  9007199254740993, 1e21, -1e21, 0.5, -0.5, 1.5, 2.5, -2.5, 255.5, 254.5, 256, -1, 1e-7, Math.PI,
]

/** mulberry32: a small seeded PRNG, so every run sees the same inputs. */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An array of `n` values in [lo, hi), with edge values at ~`edgeRate` of the positions. */
export function fill(Ctor, n, rand, lo, hi, edgeRate = 0) {
  const a = new Ctor(n)
  for (let i = 0; i < n; i++) {
    a[i] = edgeRate > 0 && rand() < edgeRate ? edgeValues[Math.floor(rand() * edgeValues.length)] : lo + (hi - lo) * rand()
  }
  return a
}

const saxpy = function saxpy(a, x, y) {
  for (let i = 0; i < x.length; i++) y[i] = a * x[i] + y[i]
}

const dot = function dot(x, y) {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i] * y[i]
  return s
}

const sum = function sum(a) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return s
}

const prefixSum = function prefixSum(a) {
  for (let i = 1; i < a.length; i++) a[i] += a[i - 1]
}

const matmul = function matmul(a, b, c, n) {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]
      c[i * n + j] = s
    }
  }
}

const mandelbrot = function mandelbrot(out, width, height, maxIter) {
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

const boxBlur = function boxBlur(src, dst, width, height) {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0
        let n = 0
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy
            const xx = x + dx
            if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
              s += src[(yy * width + xx) * 4 + c]
              n++
            }
          }
        }
        dst[(y * width + x) * 4 + c] = s / n
      }
    }
  }
}

const grayscale = function grayscale(rgba, gray) {
  for (let i = 0; i < gray.length; i++) {
    gray[i] = luma(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2])
  }
}

const histogram = function histogram(data, hist) {
  for (let i = 0; i < data.length; i++) hist[data[i] & 255]++
}

const threshold = function threshold(px, level, out) {
  for (let i = 0; i < px.length; i++) out[i] = above(clamp(px[i] * GAIN, 0, 255), level) ? 255 : 0
}

const nbody = function nbody(pos, vel, mass, dt) {
  const n = mass.length
  for (let i = 0; i < n; i++) {
    let ax = 0
    let ay = 0
    let az = 0
    for (let j = 0; j < n; j++) {
      if (i === j) continue
      const dx = pos[j * 3] - pos[i * 3]
      const dy = pos[j * 3 + 1] - pos[i * 3 + 1]
      const dz = pos[j * 3 + 2] - pos[i * 3 + 2]
      const d2 = dx * dx + dy * dy + dz * dz + 0.01
      const inv = mass[j] / (d2 * Math.sqrt(d2))
      ax += dx * inv
      ay += dy * inv
      az += dz * inv
    }
    vel[i * 3] += ax * dt
    vel[i * 3 + 1] += ay * dt
    vel[i * 3 + 2] += az * dt
  }
  for (let i = 0; i < pos.length; i++) pos[i] += vel[i] * dt
}

const spectralAv = function spectralAv(v, av) {
  const n = v.length
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < n; j++) s += A(i, j) * v[j]
    av[i] = s
  }
}

const fannkuch = function fannkuch(perm, perm1, count, n) {
  for (let i = 0; i < n; i++) perm1[i] = i
  let r = n
  let maxFlips = 0
  let checksum = 0
  let permCount = 0
  while (true) {
    while (r !== 1) {
      count[r - 1] = r
      r--
    }
    for (let i = 0; i < n; i++) perm[i] = perm1[i]
    let flips = 0
    let k = perm[0]
    while (k !== 0) {
      let i = 0
      let j = k
      while (i < j) {
        const t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
        i++
        j--
      }
      flips++
      k = perm[0]
    }
    if (flips > maxFlips) maxFlips = flips
    checksum += permCount % 2 === 0 ? flips : -flips
    while (true) {
      if (r === n) return maxFlips * 1000000 + checksum
      const p0 = perm1[0]
      for (let i = 0; i < r; i++) perm1[i] = perm1[i + 1]
      perm1[r] = p0
      count[r] = count[r] - 1
      if (count[r] > 0) break
      r++
    }
    permCount++
  }
}

const scaleF32 = function scaleF32(a, s, acc) {
  let total = 0
  for (let i = 0; i < a.length; i++) {
    a[i] = a[i] * s + 0.1
    acc[i] += a[i]
    total += Math.fround(a[i] * 3)
  }
  return total
}

const waves = function waves(x, out) {
  for (let i = 0; i < x.length; i++) {
    const t = x[i]
    out[i] = Math.sin(t) * Math.exp(-t * 0.1) + Math.pow(Math.abs(t), 1.5) + Math.atan2(t, 2) + t ** 2
  }
}

const fnv1a = function fnv1a(data) {
  let h = 0x811c9dc5
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]
    h = Math.imul(h, 16777619)
  }
  return h >>> 0
}

const convolve = function convolve(src, dst) {
  for (let i = 0; i < src.length; i++) {
    let s = 0
    for (let k = 0; k < WEIGHTS.length; k++) s += WEIGHTS[k] * src[i + k - 1]
    dst[i] = s * GAIN
  }
}

const convertAll = function convertAll(src, i8, u8, i16, u16, i32, u32, u8c, f32) {
  for (let i = 0; i < src.length; i++) {
    const v = src[i]
    i8[i] = v
    u8[i] = v
    i16[i] = v
    u16[i] = v
    i32[i] = v
    u32[i] = v
    u8c[i] = v
    f32[i] = v
  }
}

const arith = function arith(a, b, out) {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    out[i * 8] = x % y
    out[i * 8 + 1] = Math.round(x) + Math.floor(y) - Math.ceil(x) + Math.trunc(y)
    out[i * 8 + 2] = (x | 0) + (y >> 3) + (x >>> 1) + (~y) + (x << 4) + (x & y) + (x ^ y)
    out[i * 8 + 3] = Math.min(x, y, 0) + Math.max(x, y) + Math.sign(x) + Math.abs(y)
    out[i * 8 + 4] = x < y ? x / y : x > y ? -x : x === y ? 1 : 2
    out[i * 8 + 5] = Math.clz32(x) + Math.imul(x, y) + Math.fround(y) + -x * 1
    out[i * 8 + 6] = (x && y) + (x || 2) + +!x + (x != y) * 3
    out[i * 8 + 7] = Math.hypot(x, y) + Math.sqrt(y) + Math.cbrt(x) + Math.log1p(y) + Math.tanh(x)
  }
}

const collatz = function collatz(seeds, steps) {
  let total = 0
  for (let i = 0; i < seeds.length; i++) {
    let n = seeds[i]
    let s = 0
    while (n > 1 && s < 1000) {
      n = n % 2 === 0 ? n / 2 : 3 * n + 1
      s++
    }
    steps[i] = s
    total += s
  }
  return total
}

const negZero = function negZero(out, w) {
  let k = 0
  for (let y = -2; y < 3; y++) {
    for (let x = 0; x < 2; x++) {
      out[k++] = y * w
      out[k++] = y * w + x
      out[k++] = x - y * w
      out[k++] = 1 / (y * w - x)
      out[k++] = 1 / (x + y * w)
    }
  }
}

const hashMix = function hashMix(a, out) {
  let h = 2166136261
  let g = 0
  for (let i = 0; i < a.length; i++) {
    g = a[i] * 1e9
    h = (h ^ g) + 0.5
    out[i] = (g | 0) + (h >>> 3) + Math.imul(h, g) + Math.clz32(g) + ~h
  }
  return h | 0
}

const controlFlow = function controlFlow(a, counts, flags) {
  let found = -1
  let total = 0
  outer: for (let i = 0, j = a.length - 1; i < a.length; i++, j--) {
    if (a[i] !== a[i]) continue
    let k = 0
    do {
      k++
      if (k > 3) break
    } while (a[i] > k * 10)
    counts[i] = k
    for (let m = 0; m < 4; m++) {
      if (a[j] < -1e9) break outer
      if (m === 2) continue outer
      total += m
    }
  }
  let n = 0
  while (true) {
    n += 7
    if (n > 100) break
  }
  for (let i = 0; i < flags.length; i++) {
    const odd = isOdd(i)
    const big = a[i % a.length] > 0.5
    flags[i] = odd && big ? 3 : odd || big ? 2 : !odd ? 1 : 0
    if (flags[i] === 3 && found < 0) found = i
  }
  return found + total * 0.5 + n + (a.length > 4 ? sumRange(a, 1, 4) : 0)
}

const sideEffectTests = function sideEffectTests(a, out) {
  let i = 0
  let s = 0
  while (i < a.length && (i += 1) > 0) out[i - 1] = a[i]
  for (let j = 0; j < 2147483647 && j++ < a.length; ) s += j
  let k = 2147483640
  while (k < 2147483647 && k++ > 0) s += k + 1
  return s + k
}

/**
 * Each case: the kernel, its dependencies, a signature, and an input generator taking a PRNG
 * and a size scale (small for tests, large for benchmarks).
 */
export const corpus = [
  { name: 'saxpy', fn: saxpy, signature: '(f64, f64[], f64[]) => void',
    args: (r, n) => [r() * 4 - 2, fill(Float64Array, n, r, -100, 100, 0.05), fill(Float64Array, n, r, -100, 100, 0.05)] },
  { name: 'dot', fn: dot, signature: '(f64[], f64[]) => f64',
    args: (r, n) => [fill(Float64Array, n, r, -1, 1, 0.01), fill(Float64Array, n, r, -1, 1, 0.01)] },
  { name: 'sum', fn: sum, signature: '(f64[]) => f64',
    args: (r, n) => [fill(Float64Array, n, r, -1e6, 1e6, 0.01)] },
  { name: 'prefixSum', fn: prefixSum, signature: '(f64[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -10, 10, 0.01)] },
  { name: 'matmul', fn: matmul, signature: '(f64[], f64[], f64[], i32) => void',
    args: (r, n) => { const m = Math.max(4, Math.round(Math.sqrt(n) / 2)); return [fill(Float64Array, m * m, r, -1, 1, 0.02), fill(Float64Array, m * m, r, -1, 1, 0.02), new Float64Array(m * m), m] } },
  { name: 'mandelbrot', fn: mandelbrot, signature: '(i32[], i32, i32, i32) => void',
    args: (r, n) => { const w = Math.max(8, Math.round(Math.sqrt(n) / 2)); return [new Int32Array(w * w), w, w, 200] } },
  { name: 'boxBlur', fn: boxBlur, signature: '(u8c[], u8c[], i32, i32) => void',
    args: (r, n) => { const w = Math.max(6, Math.round(Math.sqrt(n) / 2)); return [fill(Uint8ClampedArray, w * w * 4, r, 0, 256), new Uint8ClampedArray(w * w * 4), w, w] } },
  { name: 'grayscale', fn: grayscale, deps: { luma }, signature: '(u8c[], u8c[]) => void',
    args: (r, n) => [fill(Uint8ClampedArray, n * 4, r, 0, 256), new Uint8ClampedArray(n)] },
  { name: 'histogram', fn: histogram, signature: '(i32[], i32[]) => void',
    args: (r, n) => [fill(Int32Array, n, r, -1e9, 1e9), new Int32Array(256)] },
  { name: 'threshold', fn: threshold, deps: { clamp, above, GAIN }, signature: '(f64[], f64, u8[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -50, 300, 0.05), 128, new Uint8Array(n)] },
  { name: 'nbody', fn: nbody, signature: '(f64[], f64[], f64[], f64) => void',
    args: (r, n) => { const b = Math.max(5, Math.round(Math.sqrt(n) / 4)); return [fill(Float64Array, b * 3, r, -10, 10), fill(Float64Array, b * 3, r, -1, 1), fill(Float64Array, b, r, 0.1, 2), 0.01] } },
  { name: 'spectralNorm', fn: spectralAv, deps: { A }, signature: '(f64[], f64[]) => void',
    args: (r, n) => { const m = Math.max(8, Math.round(Math.sqrt(n) * 2)); return [fill(Float64Array, m, r, 0, 1), new Float64Array(m)] } },
  { name: 'fannkuch', fn: fannkuch, signature: '(i32[], i32[], i32[], i32) => f64',
    args: (r, n) => { const k = n >= 10000 ? 9 : 7; return [new Int32Array(k), new Int32Array(k + 1), new Int32Array(k), k] } },
  { name: 'scaleF32', fn: scaleF32, signature: '(f32[], f32, f64[]) => f64',
    args: (r, n) => [fill(Float32Array, n, r, -1000, 1000, 0.05), r() * 3, fill(Float64Array, n, r, -1, 1)] },
  { name: 'waves', fn: waves, signature: '(f64[], f64[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -20, 20, 0.05), new Float64Array(n)] },
  { name: 'fnv1a', fn: fnv1a, signature: '(u8[]) => u32',
    args: (r, n) => [fill(Uint8Array, n, r, 0, 256)] },
  { name: 'convolve', fn: convolve, deps: { WEIGHTS, GAIN }, signature: '(f64[], f64[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -5, 5, 0.05), new Float64Array(n)] },
  { name: 'convertAll', fn: convertAll, signature: '(f64[], i8[], u8[], i16[], u16[], i32[], u32[], u8c[], f32[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -70000, 70000, 0.3), new Int8Array(n), new Uint8Array(n), new Int16Array(n), new Uint16Array(n), new Int32Array(n), new Uint32Array(n), new Uint8ClampedArray(n), new Float32Array(n)] },
  { name: 'arith', fn: arith, signature: '(f64[], f64[], f64[]) => void',
    args: (r, n) => [fill(Float64Array, n, r, -1e3, 1e3, 0.3), fill(Float64Array, n, r, -50, 50, 0.3), new Float64Array(n * 8)] },
  { name: 'negZero', fn: negZero, signature: '(f64[], i32) => void',
    args: (r) => [new Float64Array(50), Math.floor(r() * 7) - 3] },
  { name: 'hashMix', fn: hashMix, signature: '(f64[], f64[]) => f64',
    args: (r, n) => [fill(Float64Array, n, r, -1e3, 1e3, 0.2), new Float64Array(n)] },
  { name: 'controlFlow', fn: controlFlow, deps: { isOdd, sumRange, clamp }, signature: '(f64[], i32[], u8[]) => f64',
    args: (r, n) => [fill(Float64Array, n, r, -40, 40, 0.1), new Int32Array(n), new Uint8Array(n)] },
  { name: 'sideEffectTests', fn: sideEffectTests, signature: '(f64[], f64[]) => f64',
    args: (r, n) => [fill(Float64Array, 16, r, -5, 5, 0.1), new Float64Array(16)] },
  { name: 'collatz', fn: collatz, signature: '(f64[], i32[]) => f64',
    args: (r, n) => [fill(Float64Array, n, r, 1, 1e6).map(Math.floor), new Int32Array(n)] },
]
