// Image kernels over RGBA pixels (Uint8ClampedArray, as ImageData gives them).
import { kernel } from 'kiln'
import { clamp, lerp } from '../lib/index.js'
import { BIAS, GAIN, LUMA, WEIGHTS } from '../config.js'

export function brightenJs(px, amount) {
  for (let i = 0; i < px.length; i += 4) {
    px[i] = clamp(px[i] * GAIN + amount + BIAS, 0, 255)
    px[i + 1] = clamp(px[i + 1] * GAIN + amount + BIAS, 0, 255)
    px[i + 2] = clamp(px[i + 2] * GAIN + amount + BIAS, 0, 255)
  }
}
export const brighten = kernel(brightenJs, { cache: true, signatures: ['(u8c[], f64) => void'] })

export function grayscaleJs(px, amount) {
  for (let i = 0; i < px.length; i += 4) {
    const y = LUMA[0] * px[i] + LUMA[1] * px[i + 1] + LUMA[2] * px[i + 2]
    px[i] = lerp(px[i], y, amount)
    px[i + 1] = lerp(px[i + 1], y, amount)
    px[i + 2] = lerp(px[i + 2], y, amount)
  }
}
export const grayscale = kernel(grayscaleJs, { cache: true, signatures: ['(u8c[], f64) => void'] })

/** Horizontal 5-tap blur of each channel, `width` pixels per row. */
export function blurJs(src, dst, width) {
  const rows = src.length / (4 * width)
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0
        for (let k = -2; k <= 2; k++) {
          const xx = clamp(x + k, 0, width - 1)
          sum += WEIGHTS[k + 2] * src[(y * width + xx) * 4 + c]
        }
        dst[(y * width + x) * 4 + c] = sum
      }
      dst[(y * width + x) * 4 + 3] = 255
    }
  }
}
export const blur = kernel(blurJs, { cache: true, signatures: ['(u8c[], u8c[], i32) => void'] })
