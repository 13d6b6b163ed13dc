// `Math.pow(x, y)` and `x ** y` with a constant exponent, as wasm instructions instead of a call
// to the host's Math.pow, for the exponents where the instructions give V8's result bit for bit.
//
// Engines compute pow with their own algorithms, which round differently from repeated
// multiplication: x*x*x differs from V8's Math.pow(x, 3) on about one value in six, and
// 1/Math.sqrt(x) from Math.pow(x, -0.5) on one in eight. Even 1/x, which Node 20's V8 matches,
// differs from Chromium's Math.pow(x, -1) on large and tiny x. x*x for 2 and the fixed-up sqrt
// for 0.5 are what the engines special-case themselves; test/speed.test.ts checks every inline
// exponent against Math.pow in Node and in Chromium. Every other exponent stays a call.

import binaryen from 'binaryen'

type Ref = binaryen.ExpressionRef

/** The exponents lowered inline. */
export const INLINE_EXPONENTS: readonly number[] = [0, 1, 2, 0.5]

export interface PowerLowering {
  m: binaryen.Module
  /** Evaluates `ref` once into a temp. */
  temp(ref: Ref): { set: Ref; get: () => Ref }
  /** The base as a plain number: undefined's pattern made the canonical NaN, which `x ** 1` must not keep. */
  canonical(ref: Ref): Ref
}

/** The exponent of a constant `y` operand (a lowered wasm constant), or null. */
export function constantExponent(y: Ref): number | null {
  if (binaryen.getExpressionId(y) !== binaryen.ConstId) return null
  const info = binaryen.getExpressionInfo(y) as binaryen.ConstInfo
  if (info.type === binaryen.i32 || info.type === binaryen.f64) return Number(info.value)
  return null
}

/** `x ** y` for an f64 base `x` and a constant `y`, or null when `y` is not lowered inline. */
export function inlinePower(p: PowerLowering, x: Ref, y: number): Ref | null {
  const { m } = p
  if (Object.is(y, 0) || Object.is(y, -0)) return m.block(null, [m.drop(x), m.f64.const(1)], binaryen.f64) // even NaN ** 0
  if (y === 1) return p.canonical(x)
  if (y === 2) {
    const v = p.temp(x)
    return m.block(null, [v.set, m.f64.mul(v.get(), v.get())], binaryen.f64)
  }
  if (y === 0.5) {
    // pow(-0, 0.5) is +0 where sqrt gives -0 (adding +0 fixes it); pow(-Infinity, 0.5) is +Infinity.
    const v = p.temp(x)
    return m.block(null, [
      v.set,
      m.select(m.f64.eq(v.get(), m.f64.const(-Infinity)), m.f64.const(Infinity), m.f64.add(m.f64.sqrt(v.get()), m.f64.const(0))),
    ], binaryen.f64)
  }
  return null
}
