// Speculative integers (in variants compiled with `trapOutOfBounds`): which +, -, *, % and
// length divisions are typed int32 with a check that traps where JS would give something else
// (the runtime then reruns the call without speculation, as V8 deoptimizes), the exact bounds
// that let a tree of them be checked once at its root, and int sums of int products.

import type { Expr } from './ast.js'
import type { CheckedInfo } from './infer.js'
import { arith } from './ranges.js'
import { fullInt, intRange, rangeOf, type Type } from './types.js'

/** What speculation needs from the inference pass in progress. */
export interface SpeculationScope {
  /** Whether the variant speculates at all. */
  trap: boolean
  /** The pass's state: expression types, the operations typed int32 on speculation, and ToInt32 uses. */
  state(): { types: Map<Expr, Type>; checked: Map<Expr, CheckedInfo | null>; int32Uses: Set<Expr>; wrappedOperands: Set<Expr> }
  /** The array whose length an expression is, or null. */
  lengthOf(e: Expr): number | null
}

export function speculation({ trap, state, lengthOf }: SpeculationScope) {
  /**
   * In a speculative module, `a + b`, `a - b` and `a * b` of int32 operands whose result may
   * leave int32 (or be -0) is an int32 that traps when it does: the runtime then undoes the call
   * and reruns it without speculation. Returns the type, recording `e`, or null.
   */
  const speculateInt = (e: Expr, op: string, a: Type, b: Type): Type | null => {
    if (!trap || (op !== '+' && op !== '-' && op !== '*' && op !== '%' && op !== '/')) return null
    // Under ToInt32 (`(a + b) | 0`) wrapping arithmetic is exact and needs no check.
    if (state().int32Uses.has(e) || state().wrappedOperands.has(e)) return null
    const ra = rangeOf(a)
    const rb = rangeOf(b)
    if (!ra || !rb) return null
    if (op === '/') {
      // An array length divided by a positive int (`pts.length / 2`, `px.length / 4`): the
      // quotient is exact in the data kernels are written for (pairs, RGBA quads); it traps
      // when it is not. Other divisions are left alone: one that is often inexact would make
      // every call of the variant rerun without speculation.
      if (e.kind !== 'Binary' || lengthOf(e.left) === null || rb.lo < 1) return null
      state().checked.set(e, null)
      return intRange(0, Math.floor(ra.hi / rb.lo))
    }
    if (op === '%') {
      // A remainder of ints is an int but for -0 (a negative multiple): that case traps.
      if (rb.lo <= 0 && rb.hi >= 0) return null
      state().checked.set(e, null)
      const m = Math.min(Math.max(-rb.lo, rb.hi) - 1, Math.max(-ra.lo, ra.hi))
      return intRange(ra.lo < 0 ? -m : 0, ra.hi > 0 ? m : 0)
    }
    state().checked.set(e, e.kind === 'Binary' ? exactInfo(op, e.left, ra, e.right, rb) : null)
    return fullInt
  }

  /** The exact bounds of `l op r` (+, -, *) from its operands' exact bounds (a checked operand's own). */
  const exactInfo = (op: string, l: Expr, rl: { lo: number; hi: number }, r: Expr, rr: { lo: number; hi: number }): CheckedInfo | null => {
    const operand = (x: Expr, range: { lo: number; hi: number }): CheckedInfo | null => {
      if (!state().checked.has(x)) return { ...range, fusable: true }
      return state().checked.get(x) ?? null
    }
    const a = operand(l, rl)
    const b = operand(r, rr)
    if (!a || !b) return null
    let lo: number
    let hi: number
    if (op === '+') [lo, hi] = [a.lo + b.lo, a.hi + b.hi]
    else if (op === '-') [lo, hi] = [a.lo - b.hi, a.hi - b.lo]
    else {
      const c = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
      ;[lo, hi] = [Math.min(...c), Math.max(...c)]
    }
    // -0 only from a product with a negative operand; i64 holds anything below 2^62 exactly.
    const fusable = a.fusable && b.fusable && (op !== '*' || (a.lo >= 0 && b.lo >= 0)) && lo > -(2 ** 62) && hi < 2 ** 62
    return { lo, hi, fusable }
  }

  /**
   * `a * b` of ints is f64 only because it may be -0 (0 times a negative). Added to an int
   * (`y * w + x`, or `x - y * w`) a -0 is the same as 0, so both can stay in i32: returns the
   * sum's type and retypes the product, or null.
   */
  const sumWithProduct = (e: Extract<Expr, { kind: 'Binary' }>, lt: Type, rt: Type): Type | null => {
    const productInt = (x: Expr): Type | null => {
      if (x.kind !== 'Binary' || x.op !== '*') return null
      const a = state().types.get(x.left)
      const b = state().types.get(x.right)
      const ra = a && rangeOf(a)
      const rb = b && rangeOf(b)
      if (!ra || !rb) return null
      const c = [ra.lo * rb.lo, ra.lo * rb.hi, ra.hi * rb.lo, ra.hi * rb.hi]
      const t = intRange(Math.min(...c), Math.max(...c))
      return t.kind === 'int' ? t : null
    }
    // (-0) + int and int - (-0) are exact; (-0) - 0 is -0, so a product on the left of `-` is not.
    const left = e.op === '+' && rt.kind === 'int' ? productInt(e.left) : null
    const right = !left && lt.kind === 'int' ? productInt(e.right) : null
    const sum = left ? arith(e.op, left, rt) : right ? arith(e.op, lt, right) : null
    if (!sum || sum.kind !== 'int') return null
    if (left) state().types.set(e.left, left)
    if (right) state().types.set(e.right, right)
    return sum
  }

  return { speculateInt, sumWithProduct }
}
