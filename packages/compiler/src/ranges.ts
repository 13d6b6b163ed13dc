// Range arithmetic of the kernel language's number types (see types.ts): what `a op b` is when
// its operands are ints in ranges or bounded numbers, exactly as JS computes it. Inference uses
// it for every arithmetic expression and for the bounds loop tests give their counters.

import { boundedF64, boundsOf, f64, fullInt, intRange, mayBeNegZero, rangeOf, type Type } from './types.js'

/** The type of `a op b`: an int range where exact, else an f64 with the bounds its operands give. */
export const arith = (op: string, a: Type, b: Type): Type => {
  const t = intArith(op, a, b)
  return t.kind === 'f64' ? boundedArith(op, a, b) : t
}

/** Bounds of `a op b` when it is not NaN, from its operands' bounds (every corner; the operations are monotone). */
export const boundedArith = (op: string, a: Type, b: Type): Type => {
  const ba = boundsOf(a)
  const bb = boundsOf(b)
  if (!ba || !bb) return f64
  // -0 comes only from -0 operands, or from a zero or underflowing result of negative sign:
  // a product or quotient of two values >= +0 (a positive divisor) is never -0.
  const za = mayBeNegZero(a)
  const zb = mayBeNegZero(b)
  const signed = ba.lo < 0 || bb.lo < 0 || za || zb
  const corners = (f: (x: number, y: number) => number, negZero: boolean): Type => {
    const c = [f(ba.lo, bb.lo), f(ba.lo, bb.hi), f(ba.hi, bb.lo), f(ba.hi, bb.hi)]
    return boundedF64(Math.min(...c), Math.max(...c), negZero)
  }
  const nonZero = bb.lo > 0 || bb.hi < 0
  switch (op) {
    case '+': return boundedF64(ba.lo + bb.lo, ba.hi + bb.hi, za && zb)
    case '-': return boundedF64(ba.lo - bb.hi, ba.hi - bb.lo, za)
    case '*': return corners((x, y) => x * y, signed)
    case '/': return nonZero ? corners((x, y) => x / y, signed) : f64
    case '%': {
      if (!nonZero) return f64
      // |a % b| < |b| and |a % b| <= |a|, with a's sign.
      const m = Math.max(-bb.lo, bb.hi)
      return boundedF64(ba.lo >= 0 ? 0 : -Math.min(m, -ba.lo), ba.hi <= 0 ? 0 : Math.min(m, ba.hi), ba.lo < 0 || za)
    }
    default: return f64
  }
}

/** The type of `a op b` for ints (and booleans, as 0 and 1): an int range where JS gives an int32 that is never -0, else f64. */
export const intArith = (op: string, a: Type, b: Type): Type => {
  const ra = rangeOf(a)
  const rb = rangeOf(b)
  switch (op) {
    case '+': return ra && rb ? intRange(ra.lo + rb.lo, ra.hi + rb.hi) : f64
    case '-': return ra && rb ? intRange(ra.lo - rb.hi, ra.hi - rb.lo) : f64
    case '*': {
      if (!ra || !rb) return f64
      const negZero = (ra.lo <= 0 && ra.hi >= 0 && rb.lo < 0) || (rb.lo <= 0 && rb.hi >= 0 && ra.lo < 0)
      if (negZero) return f64
      const c = [ra.lo * rb.lo, ra.lo * rb.hi, ra.hi * rb.lo, ra.hi * rb.hi]
      return intRange(Math.min(...c), Math.max(...c))
    }
    case '/': case '**': return f64
    case '%':
      if (ra && rb && ra.lo >= 0 && (rb.lo > 0 || rb.hi < 0)) {
        const m = Math.max(Math.abs(rb.lo), Math.abs(rb.hi)) - 1
        return intRange(0, Math.min(ra.hi, m))
      }
      return f64
    case '&':
      if (ra && ra.lo >= 0 && rb && rb.lo >= 0) return intRange(0, Math.min(ra.hi, rb.hi))
      if (ra && ra.lo >= 0) return intRange(0, ra.hi)
      if (rb && rb.lo >= 0) return intRange(0, rb.hi)
      return fullInt
    case '|': case '^':
      if (ra && rb && ra.lo >= 0 && rb.lo >= 0) return intRange(0, 2 ** Math.ceil(Math.log2(Math.max(ra.hi, rb.hi) + 1)) - 1)
      return fullInt
    case '<<': return fullInt
    case '>>':
      if (ra && rb && rb.lo === rb.hi) return intRange(ra.lo >> (rb.lo & 31), ra.hi >> (rb.lo & 31))
      return fullInt
    case '>>>': {
      if (rb && rb.lo === rb.hi && (rb.lo & 31) !== 0) {
        const k = rb.lo & 31
        if (ra && ra.lo >= 0) return intRange(ra.lo >>> k, ra.hi >>> k)
        return intRange(0, 2 ** (32 - k) - 1)
      }
      // A count of 0 to 31: anything from x itself down to 0.
      return ra && ra.lo >= 0 ? intRange(0, ra.hi) : f64
    }
  }
  throw new Error(`internal: arith ${op}`)
}


/** The int bound `B` gives a `v` of type int in `v < B` (strict) or `v <= B` from above (dir 1), or in the mirrored forms from below. */
export const intBound = (bound: { lo: number; hi: number }, strict: boolean, dir: 1 | -1): number =>
  dir === 1 ? (strict ? Math.ceil(bound.hi) - 1 : Math.floor(bound.hi)) : (strict ? Math.floor(bound.lo) + 1 : Math.ceil(bound.lo))
