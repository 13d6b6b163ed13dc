// What a loop's test says about the locals it bounds: the range of a counter after `v += k` or
// `v *= k` under `v < B` (so it stays an int), the narrower range of locals inside the body
// (`i < n` bounds i above and n below), and which `a[i]` are in bounds (`i < a.length`).

import { assignsInside, conjuncts, type Expr, type LoopStmt, type NameRef } from './ast.js'
import type { DiagnosticCode, Span } from './diagnostics.js'
import { arith, intBound } from './ranges.js'
import type { ResolvedFunction } from './resolve.js'
import { boundsOf, f64, intRange, rangeOf, type Type } from './types.js'

/** What the bounds need from the inference pass in progress. */
export interface LoopScope {
  func: ResolvedFunction
  /** Each local's type so far (null: not yet assigned). */
  vars: (Type | null)[]
  /** The pass's state: the loops around the statement being typed, expression types, narrowed locals. */
  state(): { loops: LoopStmt[]; types: Map<Expr, Type>; narrow: Map<number, Type> }
  varOf(ref: NameRef): number | null
  /** The array parameter a name is, or null. */
  arrayVar(ref: NameRef): number | null
  fail(code: DiagnosticCode, message: string, span: Span): void
}

export function loopBounds({ func, vars, state, varOf, arrayVar, fail }: LoopScope) {
  /** The innermost loop, when its test (checked before each step) can bound `v`: a for or while loop that assigns `v` once. */
  const boundingLoop = (v: number): LoopStmt | null => {
    const loop = state().loops[state().loops.length - 1]
    if (!loop || loop.kind === 'DoWhile' || !loop.test) return null
    return func.assignedInLoop.get(loop)?.get(v) === 1 ? loop : null
  }

  /** The type after `v += step` (dir 1) or `v -= step` (dir -1), bounded by the enclosing loop's test when it can be. */
  const stepType = (v: number, step: Type, dir: 1 | -1, span: Span): Type => {
    const base = vars[v]
    if (base === null || base.kind === 'bool') {
      fail('KILN_TYPE_MIX', `\`${func.vars[v].name}\` holds a boolean; it cannot be incremented`, span)
      return f64
    }
    if (base.kind === 'array') return f64
    const normal = arith(dir === 1 ? '+' : '-', base, step)
    const rs = rangeOf(step)
    if (base.kind !== 'int' || !rs || rs.lo < 0) return normal
    const loop = boundingLoop(v)
    if (!loop) return normal
    for (const c of conjuncts(loop.test!)) {
      const bound = compareBound(c, v, dir)
      if (!bound) continue
      const rb = boundsOf(state().types.get(bound.expr) ?? f64)
      if (!rb) continue
      // v + k < B: v < B - k for the smallest k (counting up), the largest (counting down).
      const limit = intBound(rb, bound.strict, dir) - (dir === 1 ? bound.add.lo : bound.add.hi)
      if (dir === 1) return intRange(base.lo + rs.lo, limit + rs.hi)
      return intRange(limit - rs.hi, base.hi - rs.lo)
    }
    return normal
  }

  /**
   * The type after `v *= k` (or `v = v * k`, `v <<= s`) for a non-negative int v and an int
   * factor k >= 1, bounded by the loop's test `v < B` / `v <= B` the way `stepType` bounds sums.
   */
  const scaleType = (v: number, factor: Type, normal: Type): Type => {
    const base = vars[v]
    const rf = rangeOf(factor)
    if (base?.kind !== 'int' || base.lo < 0 || !rf || rf.lo < 1) return normal
    const loop = boundingLoop(v)
    if (!loop) return normal
    for (const c of conjuncts(loop.test!)) {
      const bound = compareBound(c, v, 1)
      const rb = bound && boundsOf(state().types.get(bound.expr) ?? f64)
      if (!rb) continue
      return intRange(base.lo, Math.max(base.hi, (intBound(rb, bound!.strict, 1) - bound!.add.lo) * rf.hi))
    }
    return normal
  }

  /**
   * `v`, or `v + k` / `v - k` with k an int: the local and the range of what is added to it
   * (what a test such as `i + factor <= n` bounds).
   */
  const offsetName = (x: Expr): { v: number; add: { lo: number; hi: number } } | null => {
    if (x.kind === 'Name') {
      const v = varOf(x)
      return v === null ? null : { v, add: { lo: 0, hi: 0 } }
    }
    if (x.kind !== 'Binary' || (x.op !== '+' && x.op !== '-') || x.left.kind !== 'Name') return null
    const v = varOf(x.left)
    const rk = rangeOf(state().types.get(x.right) ?? f64)
    if (v === null || !rk || assignsInside(x.right)) return null
    return { v, add: x.op === '+' ? rk : { lo: -rk.hi, hi: -rk.lo } }
  }

  /**
   * For `v < B`, `v <= B`, `B > v`, `B >= v` (dir 1) or the mirrored forms (dir -1), with `v`
   * possibly `v ± k` (see `offsetName`): B and the range added to v.
   */
  const compareBound = (c: Expr, v: number, dir: 1 | -1): { expr: Expr; strict: boolean; add: { lo: number; hi: number } } | null => {
    if (c.kind !== 'Binary') return null
    const at = (x: Expr) => {
      const o = offsetName(x)
      return o && o.v === v ? o.add : null
    }
    const up = dir === 1
    const left = at(c.left)
    if (left && (c.op === (up ? '<' : '>') || c.op === (up ? '<=' : '>='))) return { expr: c.right, strict: c.op.length === 1, add: left }
    const right = at(c.right)
    if (right && (c.op === (up ? '>' : '<') || c.op === (up ? '>=' : '<='))) return { expr: c.left, strict: c.op.length === 1, add: right }
    return null
  }

  /** The array whose length `e` is: `a.length`, or a never-reassigned local initialized with it. */
  const lengthOf = (e: Expr): number | null => {
    if (e.kind === 'Member' && e.property === 'length') return arrayVar(e.object)
    if (e.kind === 'Name') {
      const v = varOf(e)
      const info = v === null ? null : func.vars[v]
      if (info && !info.isParam && info.assignments === 1 && info.init) return lengthOf(info.init)
    }
    return null
  }

  /**
   * Inside the body of a loop whose test is `v < B` (and v is not assigned in the body), v is
   * below B's upper bound; likewise for the other comparisons. Returns the previous entries.
   */
  const narrowForBody = (loop: LoopStmt): Map<number, Type | undefined> => {
    const saved = new Map<number, Type | undefined>()
    if (loop.kind === 'DoWhile' || !loop.test || assignsInside(loop.test)) return saved
    const assigned = func.assignedInBody.get(loop)!
    for (const c of conjuncts(loop.test)) {
      if (c.kind !== 'Binary') continue
      const flip: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }
      let op = c.op as string
      let bExpr = c.right
      if (!(op in flip)) continue
      let o = offsetName(c.left)
      if (!o) {
        o = offsetName(c.right)
        bExpr = c.left
        op = flip[op]
      }
      if (!o || assigned.has(o.v)) continue
      const v = o.v
      const cur = state().narrow.get(v) ?? vars[v]
      // The other side too: in `i < n` (n a local the body does not assign), n > i >= i's lowest.
      const bv = bExpr.kind === 'Name' ? varOf(bExpr) : null
      const bt = bv === null ? null : state().narrow.get(bv) ?? vars[bv]
      if (bv !== null && !assigned.has(bv) && bt?.kind === 'int' && cur?.kind === 'int' && (op === '<' || op === '<=')) {
        const lo = Math.max(bt.lo, cur.lo + o.add.lo + (op === '<' ? 1 : 0))
        if (lo <= bt.hi) {
          if (!saved.has(bv)) saved.set(bv, state().narrow.get(bv))
          state().narrow.set(bv, { kind: 'int', lo, hi: bt.hi })
        }
      }
      const rb = boundsOf(state().types.get(bExpr) ?? f64)
      if (cur?.kind !== 'int' || !rb) continue
      let { lo, hi } = cur
      // v + k < B: v < B - k.lo; v + k > B: v > B - k.hi.
      if (op === '<' || op === '<=') hi = Math.min(hi, intBound(rb, op === '<', 1) - o.add.lo)
      if (op === '>' || op === '>=') lo = Math.max(lo, intBound(rb, op === '>', -1) - o.add.hi)
      if (lo > hi) continue
      if (!saved.has(v)) saved.set(v, state().narrow.get(v))
      state().narrow.set(v, { kind: 'int', lo, hi })
    }
    return saved
  }

  const restoreNarrow = (saved: Map<number, Type | undefined>): void => {
    for (const [v, t] of saved) {
      if (t === undefined) state().narrow.delete(v)
      else state().narrow.set(v, t)
    }
  }

  const loopFacts = (loop: LoopStmt): { index: number; array: number }[] => {
    if (loop.kind !== 'For' || !loop.test || assignsInside(loop.test)) return []
    const facts: { index: number; array: number }[] = []
    const assigned = func.assignedInBody.get(loop)!
    for (const c of conjuncts(loop.test)) {
      if (c.kind !== 'Binary') continue
      let iExpr: Expr | null = null
      let bExpr: Expr | null = null
      if (c.op === '<') { iExpr = c.left; bExpr = c.right }
      else if (c.op === '>') { iExpr = c.right; bExpr = c.left }
      if (!iExpr || iExpr.kind !== 'Name') continue
      const iv = varOf(iExpr)
      const av = lengthOf(bExpr!)
      if (iv !== null && av !== null && !assigned.has(iv)) facts.push({ index: iv, array: av })
    }
    return facts
  }

  return { stepType, scaleType, narrowForBody, restoreNarrow, loopFacts, lengthOf }
}
