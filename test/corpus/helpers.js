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

/** A helper that takes an array (monomorphized per element type) and calls another helper. */
export function sumRange(a, from, to) {
  let s = 0
  for (let i = from; i < to; i++) s += clamp(a[i], -1e6, 1e6)
  return s
}

export function isOdd(n) {
  return (n & 1) === 1
}
