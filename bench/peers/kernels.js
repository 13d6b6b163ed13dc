// The peer table's eight kernels (issue 11), written once as plain JS: the same source runs as
// the JS baseline, through Kiln and through jz; kernels.as.ts is the AssemblyScript port. Seven
// are the differential corpus's own; the blur rounds to an integer, so that peers storing into a
// Uint8Array (jz has no Uint8ClampedArray) store the same bytes. Each output is an integer or an
// f64 computed in source order, so every correct compiler gives bit-identical results (a
// reordered float sum does not).

import { corpus } from '../../test/corpus/kernels.js'

const fn = (name) => corpus.find((c) => c.name === name).fn

export const saxpy = fn('saxpy')
export const dot = fn('dot')
export const matmul = fn('matmul')
export const mandelbrot = fn('mandelbrot')
export const nbody = fn('nbody')
export const prefixSum = fn('prefixSum')
export const histogram = fn('histogram')

// 3×3 box blur of RGBA pixels, edges averaged over the taps inside; rounded to the nearest
// integer (halves up).
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
