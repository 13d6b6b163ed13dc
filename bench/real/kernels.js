// Numeric functions written the way open-source libraries write them (image filters, FFT,
// noise, geometry, hashes, PRNGs, statistics, DSP, linear algebra): strided and computed
// indices, loop bounds that are divisions, `Math.pow`, scalars passed as plain numbers.
// They are not any library's code; they carry its habits, so that `pnpm bench` measures the
// code people write rather than the corpus's tidy loops. Each case gives its arguments for
// a size scale `n`; a kernel is called with them as an app would (signature detected).

import { rng } from '../../test/corpus/kernels.js'

const f64s = (n, r, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => lo + (hi - lo) * r())
const bytes = (n, r) => Uint8ClampedArray.from({ length: n }, () => Math.floor(r() * 256))

/** Box blur of one RGBA row band, radius r, the running-sum way (stackblur's habits). */
function boxBlurH(src, dst, w, h, radius) {
  const div = radius + radius + 1
  for (let y = 0; y < h; y++) {
    const yi = y * w * 4
    let rs = 0
    let gs = 0
    let bs = 0
    for (let i = -radius; i <= radius; i++) {
      const p = yi + Math.min(w - 1, Math.max(i, 0)) * 4
      rs += src[p]
      gs += src[p + 1]
      bs += src[p + 2]
    }
    for (let x = 0; x < w; x++) {
      const o = yi + x * 4
      dst[o] = rs / div
      dst[o + 1] = gs / div
      dst[o + 2] = bs / div
      dst[o + 3] = src[o + 3]
      const p1 = yi + Math.min(x + radius + 1, w - 1) * 4
      const p2 = yi + Math.max(x - radius, 0) * 4
      rs += src[p1] - src[p2]
      gs += src[p1 + 1] - src[p2 + 1]
      bs += src[p1 + 2] - src[p2 + 2]
    }
  }
}

/** Brightness and contrast over RGBA pixels, stepping i by 4. */
function brightnessContrast(px, brightness, contrast) {
  const factor = (259 * (contrast + 255)) / (255 * (259 - contrast))
  for (let i = 0; i < px.length; i += 4) {
    px[i] = factor * (px[i] - 128) + 128 + brightness
    px[i + 1] = factor * (px[i + 1] - 128) + 128 + brightness
    px[i + 2] = factor * (px[i + 2] - 128) + 128 + brightness
  }
}

/** Nearest-neighbour resample of an RGBA image. */
function resizeNearest(src, sw, sh, dst, dw, dh) {
  const xr = sw / dw
  const yr = sh / dh
  for (let y = 0; y < dh; y++) {
    const sy = Math.floor(y * yr)
    for (let x = 0; x < dw; x++) {
      const sx = Math.floor(x * xr)
      const si = (sy * sw + sx) * 4
      const di = (y * dw + x) * 4
      dst[di] = src[si]
      dst[di + 1] = src[si + 1]
      dst[di + 2] = src[si + 2]
      dst[di + 3] = src[si + 3]
    }
  }
}

/** In-place radix-2 FFT on separate real and imaginary arrays (bit reversal, then butterflies). */
function fft(re, im) {
  const n = re.length
  let j = 0
  for (let i = 0; i < n - 1; i++) {
    if (i < j) {
      const tr = re[i]
      re[i] = re[j]
      re[j] = tr
      const ti = im[i]
      im[i] = im[j]
      im[j] = ti
    }
    let k = n >> 1
    while (k <= j) {
      j -= k
      k >>= 1
    }
    j += k
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2
    const step = (2 * Math.PI) / size
    for (let i = 0; i < n; i += size) {
      for (let k = 0; k < half; k++) {
        const c = Math.cos(step * k)
        const s = -Math.sin(step * k)
        const a = i + k
        const b = a + half
        const tre = re[b] * c - im[b] * s
        const tim = re[b] * s + im[b] * c
        re[b] = re[a] - tre
        im[b] = im[a] - tim
        re[a] += tre
        im[a] += tim
      }
    }
  }
}

/** 2D value noise over a grid with a permutation table (noise libraries' habits). */
function valueNoise(out, w, h, perm, scale) {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const fx = x * scale
      const fy = y * scale
      const xi = Math.floor(fx)
      const yi = Math.floor(fy)
      const tx = fx - xi
      const ty = fy - yi
      const sx = tx * tx * (3 - 2 * tx)
      const sy = ty * ty * (3 - 2 * ty)
      const a = perm[(perm[xi & 255] + yi) & 255]
      const b = perm[(perm[(xi + 1) & 255] + yi) & 255]
      const c = perm[(perm[xi & 255] + yi + 1) & 255]
      const d = perm[(perm[(xi + 1) & 255] + yi + 1) & 255]
      const top = a + sx * (b - a)
      const bottom = c + sx * (d - c)
      out[y * w + x] = (top + sy * (bottom - top)) / 255
    }
  }
}

/** Area of a polygon given as flat x, y pairs (shoelace). */
function polygonArea(pts) {
  const n = pts.length / 2
  let area = 0
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n
    area += pts[2 * i] * pts[2 * j + 1] - pts[2 * j] * pts[2 * i + 1]
  }
  return area / 2
}

/** Bounding box and centroid of flat x, y pairs, stepping by 2. */
function centroid(pts, out) {
  let sx = 0
  let sy = 0
  let minX = Infinity
  let maxX = -Infinity
  for (let i = 0; i < pts.length; i += 2) {
    const x = pts[i]
    const y = pts[i + 1]
    sx += x
    sy += y
    if (x < minX) minX = x
    if (x > maxX) maxX = x
  }
  out[0] = sx / (pts.length / 2)
  out[1] = sy / (pts.length / 2)
  out[2] = maxX - minX
}

/** Transform flat xyz points by a 4×4 column-major matrix (gl-matrix's vec3.transformMat4, in a loop). */
function transformPoints(m, pts, out) {
  for (let i = 0; i < pts.length; i += 3) {
    const x = pts[i]
    const y = pts[i + 1]
    const z = pts[i + 2]
    let w = m[3] * x + m[7] * y + m[11] * z + m[15]
    w = w || 1.0
    out[i] = (m[0] * x + m[4] * y + m[8] * z + m[12]) / w
    out[i + 1] = (m[1] * x + m[5] * y + m[9] * z + m[13]) / w
    out[i + 2] = (m[2] * x + m[6] * y + m[10] * z + m[14]) / w
  }
}

/** A 4×4 matrix product (gl-matrix's mat4.multiply): a tiny call. */
function mat4Multiply(out, a, b) {
  for (let i = 0; i < 4; i++) {
    const b0 = b[i * 4]
    const b1 = b[i * 4 + 1]
    const b2 = b[i * 4 + 2]
    const b3 = b[i * 4 + 3]
    out[i * 4] = b0 * a[0] + b1 * a[4] + b2 * a[8] + b3 * a[12]
    out[i * 4 + 1] = b0 * a[1] + b1 * a[5] + b2 * a[9] + b3 * a[13]
    out[i * 4 + 2] = b0 * a[2] + b1 * a[6] + b2 * a[10] + b3 * a[14]
    out[i * 4 + 3] = b0 * a[3] + b1 * a[7] + b2 * a[11] + b3 * a[15]
  }
}

/** CRC-32 with a table argument. */
function crc32(buf, table) {
  let crc = -1
  for (let i = 0; i < buf.length; i++) crc = (crc >>> 8) ^ table[(crc ^ buf[i]) & 0xff]
  return (crc ^ -1) >>> 0
}

/** MurmurHash3 (x86, 32-bit) over bytes, four at a time, then the tail. */
function murmur3(key, seed) {
  let h = seed
  const rem = key.length & 3
  const bytesEnd = key.length - rem
  let i = 0
  while (i < bytesEnd) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)
    i += 4
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let k1 = 0
  if (rem === 3) k1 ^= key[i + 2] << 16
  if (rem >= 2) k1 ^= key[i + 1] << 8
  if (rem >= 1) {
    k1 ^= key[i]
    k1 = Math.imul(k1, 0xcc9e2d51)
    k1 = (k1 << 15) | (k1 >>> 17)
    h ^= Math.imul(k1, 0x1b873593)
  }
  h ^= key.length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Adler-32 in blocks of 5552 (zlib's habit). */
function adler32(buf) {
  let a = 1
  let b = 0
  let len = buf.length
  let pos = 0
  while (len > 0) {
    let n = len > 5552 ? 5552 : len
    len -= n
    while (n > 0) {
      a = (a + buf[pos]) | 0
      b = (b + a) | 0
      pos++
      n--
    }
    a %= 65521
    b %= 65521
  }
  return (a | (b << 16)) >>> 0
}

/** Fills an array from a seeded mulberry32 generator. */
function mulberryFill(out, seed) {
  let a = seed >>> 0
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Sample variance with `Math.pow` (simple-statistics' habit). */
function variance(x) {
  let mean = 0
  for (let i = 0; i < x.length; i++) mean += x[i]
  mean /= x.length
  let sum = 0
  for (let i = 0; i < x.length; i++) sum += Math.pow(x[i] - mean, 2)
  return sum / (x.length - 1)
}

/** Pearson correlation of two samples. */
function correlation(x, y) {
  const n = x.length
  let sx = 0
  let sy = 0
  for (let i = 0; i < n; i++) {
    sx += x[i]
    sy += y[i]
  }
  const mx = sx / n
  const my = sy / n
  let cov = 0
  let vx = 0
  let vy = 0
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx
    const dy = y[i] - my
    cov += dx * dy
    vx += dx ** 2
    vy += dy ** 2
  }
  return cov / Math.sqrt(vx * vy)
}

/** A biquad low-pass filter run over a buffer (DSP libraries' habit). */
function biquad(input, output, freq, q, sampleRate) {
  const w0 = (2 * Math.PI * freq) / sampleRate
  const alpha = Math.sin(w0) / (2 * q)
  const cosw = Math.cos(w0)
  const a0 = 1 + alpha
  const b0 = (1 - cosw) / 2 / a0
  const b1 = (1 - cosw) / a0
  const b2 = b0
  const a1 = (-2 * cosw) / a0
  const a2 = (1 - alpha) / a0
  let x1 = 0
  let x2 = 0
  let y1 = 0
  let y2 = 0
  for (let i = 0; i < input.length; i++) {
    const x = input[i]
    const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
    x2 = x1
    x1 = x
    y2 = y1
    y1 = y
    output[i] = y
  }
}

/** Downsample by an integer factor, averaging each block (stride loops). */
function decimate(input, output, factor) {
  let o = 0
  for (let i = 0; i + factor <= input.length; i += factor) {
    let s = 0
    for (let k = 0; k < factor; k++) s += input[i + k]
    output[o++] = s / factor
  }
}

/** Gaussian elimination with partial pivoting on an n×(n+1) row-major augmented matrix. */
function gaussSolve(m, n, x) {
  const w = n + 1
  for (let col = 0; col < n; col++) {
    let best = col
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * w + col]) > Math.abs(m[best * w + col])) best = r
    if (best !== col) {
      for (let c = 0; c < w; c++) {
        const t = m[col * w + c]
        m[col * w + c] = m[best * w + c]
        m[best * w + c] = t
      }
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * w + col] / m[col * w + col]
      for (let c = col; c < w; c++) m[r * w + c] -= f * m[col * w + c]
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r * w + n]
    for (let c = r + 1; c < n; c++) s -= m[r * w + c] * x[c]
    x[r] = s / m[r * w + r]
  }
}

/** SunSpider's partial sums: `Math.pow` with a constant base and a loop exponent. */
function partialSums(n) {
  let a1 = 0
  let a2 = 0
  let a3 = 0
  let alt = -1
  for (let k = 1; k <= n; k++) {
    const k2 = k * k
    const k3 = k2 * k
    const sk = Math.sin(k)
    const ck = Math.cos(k)
    alt = -alt
    a1 += Math.pow(2 / 3, k - 1)
    a2 += Math.pow(k, -0.5)
    a3 += 1 / (k3 * sk * sk)
    a3 += alt / k + 1 / (k3 * ck * ck)
  }
  return a1 + a2 + a3
}

/** RGB → luminance and saturation, per pixel, with max/min (colour libraries' habits). */
function rgbToHsl(px, out) {
  const n = px.length / 4
  for (let p = 0; p < n; p++) {
    const r = px[p * 4] / 255
    const g = px[p * 4 + 1] / 255
    const b = px[p * 4 + 2] / 255
    const max = Math.max(r, g, b)
    const min = Math.min(r, g, b)
    const l = (max + min) / 2
    let s = 0
    if (max !== min) {
      const d = max - min
      s = l > 0.5 ? d / (2 - max - min) : d / (max + min)
    }
    out[p * 2] = s
    out[p * 2 + 1] = l
  }
}

/** 1-D convolution with a kernel array argument, edges clamped. */
function convolve1d(input, weights, output) {
  const half = Math.floor(weights.length / 2)
  const last = input.length - 1
  for (let i = 0; i < input.length; i++) {
    let acc = 0
    for (let k = 0; k < weights.length; k++) {
      let j = i + k - half
      if (j < 0) j = 0
      else if (j > last) j = last
      acc += input[j] * weights[k]
    }
    output[i] = acc
  }
}

export const realCode = [
  { name: 'boxBlurH', fn: boxBlurH, args: (r, n) => { const w = Math.round(Math.sqrt(n)); return [bytes(w * w * 4, r), new Uint8ClampedArray(w * w * 4), w, w, 3] } },
  { name: 'brightness', fn: brightnessContrast, args: (r, n) => [bytes(n * 4, r), 12, 30] },
  { name: 'resizeNearest', fn: resizeNearest, args: (r, n) => { const w = Math.round(Math.sqrt(n)); const d = Math.round(w * 0.7); return [bytes(w * w * 4, r), w, w, new Uint8ClampedArray(d * d * 4), d, d] } },
  { name: 'fft', fn: fft, args: (r, n) => { const m = 2 ** Math.round(Math.log2(n / 4)); return [f64s(m, r), f64s(m, r)] } },
  { name: 'valueNoise', fn: valueNoise, args: (r, n) => { const w = Math.round(Math.sqrt(n)); return [new Float64Array(w * w), w, w, Uint8Array.from({ length: 256 }, () => Math.floor(r() * 256)), 0.07] } },
  { name: 'polygonArea', fn: polygonArea, args: (r, n) => [f64s(n * 2, r, -100, 100)] },
  { name: 'centroid', fn: centroid, args: (r, n) => [f64s(n * 2, r, -100, 100), new Float64Array(3)] },
  { name: 'transformPts', fn: transformPoints, args: (r, n) => [f64s(16, r), f64s(n * 3, r, -10, 10), new Float64Array(n * 3)] },
  { name: 'mat4Multiply', fn: mat4Multiply, args: (r) => [new Float32Array(16), Float32Array.from(f64s(16, r)), Float32Array.from(f64s(16, r))] },
  { name: 'crc32', fn: crc32, args: (r, n) => [bytes(n, r).slice(), Int32Array.from({ length: 256 }, (_, k) => { let c = k; for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c })] },
  { name: 'murmur3', fn: murmur3, args: (r, n) => [Uint8Array.from(bytes(n + 3, r)), 42] },
  { name: 'adler32', fn: adler32, args: (r, n) => [Uint8Array.from(bytes(n, r))] },
  { name: 'mulberryFill', fn: mulberryFill, args: (r, n) => [new Float64Array(n), 12345] },
  { name: 'variance', fn: variance, args: (r, n) => [f64s(n, r, 0, 100)] },
  { name: 'correlation', fn: correlation, args: (r, n) => [f64s(n, r), f64s(n, r)] },
  { name: 'biquad', fn: biquad, args: (r, n) => [f64s(n, r), new Float64Array(n), 440, 0.707, 44100] },
  { name: 'decimate', fn: decimate, args: (r, n) => [f64s(n, r), new Float64Array(Math.ceil(n / 4)), 4] },
  { name: 'gaussSolve', fn: gaussSolve, args: (r, n) => { const m = Math.max(8, Math.round(Math.cbrt(n) * 2)); return [f64s(m * (m + 1), r), m, new Float64Array(m)] } },
  { name: 'partialSums', fn: partialSums, args: (r, n) => [n] },
  { name: 'rgbToHsl', fn: rgbToHsl, args: (r, n) => [bytes(n * 4, r), new Float64Array(n * 2)] },
  { name: 'convolve1d', fn: convolve1d, args: (r, n) => [f64s(n, r), f64s(9, r, 0, 0.25), new Float64Array(n)] },
]

export { rng }
