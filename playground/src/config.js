// Constants the kernels read. The plugin folds them into each kernel (and its cache key):
// change one and exactly the kernels that read it are recompiled.
export const GAIN = 1.2
export const BIAS = 8
/** A 5-tap binomial blur. */
export const WEIGHTS = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]
export const MAX_ITER = 96
export const ESCAPE = 2 * 2
/** Rec. 709 luma coefficients. */
export const LUMA = [0.2126, 0.7152, 0.0722]
