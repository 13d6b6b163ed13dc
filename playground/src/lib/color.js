// Helpers kernels call. They are compiled into each kernel that uses them, across files.
export function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x
}

export function mix(a, b, t) {
  return a + (b - a) * t
}

/** A smooth palette channel for an escape count (0..1 in, 0..255 out). */
export function ramp(t, phase) {
  const v = 0.5 + 0.5 * Math.cos(6.283185307179586 * (t + phase))
  return 255 * v
}
