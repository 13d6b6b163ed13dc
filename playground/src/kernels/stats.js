// Reductions: a luma histogram and a mean.
import { kernel } from 'kiln'
import { LUMA } from '../config.js'

export function histogramJs(px, bins) {
  for (let i = 0; i < bins.length; i++) bins[i] = 0
  for (let i = 0; i < px.length; i += 4) {
    const y = LUMA[0] * px[i] + LUMA[1] * px[i + 1] + LUMA[2] * px[i + 2]
    bins[Math.min(bins.length - 1, Math.floor((y * bins.length) / 256))]++
  }
}
export const histogram = kernel(histogramJs, { cache: true, signatures: ['(u8c[], i32[]) => void'] })

export function meanJs(a) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return a.length === 0 ? 0 : s / a.length
}
export const mean = kernel(meanJs, { cache: true, signatures: ['(f64[]) => f64', '(i32[]) => f64'] })
