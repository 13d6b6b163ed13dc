// Helpers that corpus kernels call from "another module" (passed to kernel() in deps).

export function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x
}

export function above(x, level) {
  return x >= level
}

/** spectral-norm's A(i, j). */
export function A(i, j) {
  return 1 / (((i + j) * (i + j + 1)) / 2 + i + 1)
}

export function luma(r, g, b) {
  return 0.299 * r + 0.587 * g + 0.114 * b
}

export const GAIN = 1.5
export const WEIGHTS = [0.25, 0.5, 0.25]
