// The Mandelbrot set into RGBA pixels; the palette comes from a namespace import.
import { kernel } from 'kiln'
import * as color from '../lib/color.js'
import { ESCAPE, MAX_ITER } from '../config.js'

export function mandelbrotJs(px, width, cx, cy, scale) {
  const height = px.length / (4 * width)
  for (let py = 0; py < height; py++) {
    for (let x = 0; x < width; x++) {
      const x0 = cx + (x - width / 2) * scale
      const y0 = cy + (py - height / 2) * scale
      let a = 0
      let b = 0
      let n = 0
      while (n < MAX_ITER && a * a + b * b <= ESCAPE) {
        const t = a * a - b * b + x0
        b = 2 * a * b + y0
        a = t
        n++
      }
      const i = (py * width + x) * 4
      const t = n / MAX_ITER
      px[i] = n === MAX_ITER ? 0 : color.ramp(t, 0)
      px[i + 1] = n === MAX_ITER ? 0 : color.ramp(t, 0.33)
      px[i + 2] = n === MAX_ITER ? 0 : color.ramp(t, 0.67)
      px[i + 3] = 255
    }
  }
}
export const mandelbrot = kernel(mandelbrotJs, { cache: true, signatures: ['(u8c[], i32, f64, f64, f64) => void'] })
