// The peer table's eight kernels (issue 11), written once as plain JS. The same source runs as
// the JS baseline, through Kiln and through jz; kernels.as.ts is the AssemblyScript port.
// Each output is an integer or an f64 computed in source order, so every correct compiler
// gives bit-identical results (a reordered float sum does not).

export function saxpy(a, x, y) {
  for (let i = 0; i < x.length; i++) y[i] = a * x[i] + y[i]
}

export function dot(x, y) {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i] * y[i]
  return s
}

export function matmul(a, b, c, n) {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]
      c[i * n + j] = s
    }
  }
}

export function mandelbrot(out, width, height, maxIter) {
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

// 3×3 box blur of RGBA pixels, edges averaged over the taps inside; rounded to the nearest
// integer (halves up), so a Uint8Array destination stores the same bytes as a clamped one.
export function boxBlur(src, dst, width, height) {
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
        dst[(y * width + x) * 4 + c] = ((s + (n >> 1)) / n) | 0
      }
    }
  }
}

export function nbody(pos, vel, mass, dt) {
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

export function prefixSum(a) {
  for (let i = 1; i < a.length; i++) a[i] += a[i - 1]
}

export function histogram(data, hist) {
  for (let i = 0; i < data.length; i++) hist[data[i] & 255]++
}
