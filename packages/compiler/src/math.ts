// The `Math` members a kernel may use: constants (inlined), functions lowered to wasm
// instructions, and functions imported from the host's Math (as Numba links libm).

export const mathConstants: Record<string, number> = {
  E: Math.E, LN10: Math.LN10, LN2: Math.LN2, LOG10E: Math.LOG10E, LOG2E: Math.LOG2E,
  PI: Math.PI, SQRT1_2: Math.SQRT1_2, SQRT2: Math.SQRT2,
}

/** How a Math function is compiled: a wasm instruction sequence or a call to the host's Math. */
export type MathLowering = 'native' | 'import'

/** name → arity (-1: any number of arguments) and lowering. */
export const mathFunctions = new Map<string, { arity: number; lowering: MathLowering }>([
  ['abs', { arity: 1, lowering: 'native' }],
  ['ceil', { arity: 1, lowering: 'native' }],
  ['floor', { arity: 1, lowering: 'native' }],
  ['trunc', { arity: 1, lowering: 'native' }],
  ['round', { arity: 1, lowering: 'native' }],
  ['sqrt', { arity: 1, lowering: 'native' }],
  ['sign', { arity: 1, lowering: 'native' }],
  ['fround', { arity: 1, lowering: 'native' }],
  ['imul', { arity: 2, lowering: 'native' }],
  ['clz32', { arity: 1, lowering: 'native' }],
  ['min', { arity: -1, lowering: 'native' }],
  ['max', { arity: -1, lowering: 'native' }],
  ['acos', { arity: 1, lowering: 'import' }],
  ['acosh', { arity: 1, lowering: 'import' }],
  ['asin', { arity: 1, lowering: 'import' }],
  ['asinh', { arity: 1, lowering: 'import' }],
  ['atan', { arity: 1, lowering: 'import' }],
  ['atanh', { arity: 1, lowering: 'import' }],
  ['atan2', { arity: 2, lowering: 'import' }],
  ['cbrt', { arity: 1, lowering: 'import' }],
  ['cos', { arity: 1, lowering: 'import' }],
  ['cosh', { arity: 1, lowering: 'import' }],
  ['exp', { arity: 1, lowering: 'import' }],
  ['expm1', { arity: 1, lowering: 'import' }],
  ['hypot', { arity: -1, lowering: 'native' }],
  ['log', { arity: 1, lowering: 'import' }],
  ['log10', { arity: 1, lowering: 'import' }],
  ['log1p', { arity: 1, lowering: 'import' }],
  ['log2', { arity: 1, lowering: 'import' }],
  ['pow', { arity: 2, lowering: 'import' }],
  ['random', { arity: 0, lowering: 'import' }],
  ['sin', { arity: 1, lowering: 'import' }],
  ['sinh', { arity: 1, lowering: 'import' }],
  ['tan', { arity: 1, lowering: 'import' }],
  ['tanh', { arity: 1, lowering: 'import' }],
])
