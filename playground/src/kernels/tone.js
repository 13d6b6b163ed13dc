// A kernel no plain code shares (an inline function; its helper is only called by kernels):
// under `vite dev` an edit to it or to lib/curve.js swaps the compiled kernel in place.
import { kernel } from 'kiln'
import { curve } from '../lib/curve.js'

export const tone = kernel(function tone(px, k) {
  for (let i = 0; i < px.length; i += 4) {
    px[i] = 255 * curve(px[i] / 255, k)
    px[i + 1] = 255 * curve(px[i + 1] / 255, k)
    px[i + 2] = 255 * curve(px[i + 2] / 255, k)
  }
}, { cache: true, signatures: ['(u8c[], f64) => void'] })
