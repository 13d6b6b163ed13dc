// The peer table's eight kernels (kernels.js) ported to AssemblyScript, statement for
// statement: the same operations in the same order, with the types AssemblyScript needs.
// Arrays are created in the module's own memory (stub runtime, nothing moves) and passed by
// reference, so no kernel call copies.

export function newF64(n: i32): Float64Array { return new Float64Array(n) }
export function newI32(n: i32): Int32Array { return new Int32Array(n) }
export function newU8C(n: i32): Uint8ClampedArray { return new Uint8ClampedArray(n) }

export function saxpy(a: f64, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = a * x[i] + y[i]
}

export function dot(x: Float64Array, y: Float64Array): f64 {
  let s: f64 = 0
  for (let i = 0; i < x.length; i++) s += x[i] * y[i]
  return s
}

export function matmul(a: Float64Array, b: Float64Array, c: Float64Array, n: i32): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s: f64 = 0
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]
      c[i * n + j] = s
    }
  }
}

export function mandelbrot(out: Int32Array, width: i32, height: i32, maxIter: i32): void {
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const x0 = (<f64>px / <f64>width) * 3.5 - 2.5
      const y0 = (<f64>py / <f64>height) * 2 - 1
      let x: f64 = 0
      let y: f64 = 0
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

export function boxBlur(src: Uint8ClampedArray, dst: Uint8ClampedArray, width: i32, height: i32): void {
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
        dst[(y * width + x) * 4 + c] = <u8>((s + (n >> 1)) / n)
      }
    }
  }
}

export function nbody(pos: Float64Array, vel: Float64Array, mass: Float64Array, dt: f64): void {
  const n = mass.length
  for (let i = 0; i < n; i++) {
    let ax: f64 = 0
    let ay: f64 = 0
    let az: f64 = 0
    for (let j = 0; j < n; j++) {
      if (i == j) continue
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

export function prefixSum(a: Float64Array): void {
  for (let i = 1; i < a.length; i++) a[i] += a[i - 1]
}

export function histogram(data: Int32Array, hist: Int32Array): void {
  for (let i = 0; i < data.length; i++) hist[data[i] & 255]++
}
