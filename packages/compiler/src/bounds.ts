// Bounds checks per loop, not per load (loop versioning). In a counted loop
// `for (let i = a; i < b; i += c)` whose body reads or writes `arr[e]`, with `e` an integer
// expression affine in the counter (`i * n + k`, `3 * i + 1`, `(y + dy) * w + x`, through
// locals declared in the body) and everything else in it unchanged by the loop, `e` takes its
// extreme values at the ends of the counter's range. One test before the loop checks those
// ends against the array's length, exactly in i64; when it holds, a copy of the loop runs with
// those accesses unchecked, else the loop as it is (out-of-bounds reads give undefined, writes
// do nothing, speculated loads trap: all as before). A loop that stops early visits a subset of
// the range, so the test stays sufficient.
//
// Counters of inner loops that are unrolled (unroll.ts) range over their constants too; an
// index affine in several counters takes its extremes at the corners of their box.

import type binaryen from 'binaryen'
import type { Expr, ForStmt, IndexExpr, Stmt } from './ast.js'
import type { Instance } from './infer.js'
import { unrollPlan } from './unroll.js'

type Ref = binaryen.ExpressionRef

/** Statements and expressions in a versioned body, at most: the body is emitted twice. */
const MAX_BODY_NODES = 400
/** The highest index bounded by inference alone worth a test (beyond it no variant's array reaches). */
const MAX_RANGE_INDEX = 2 ** 24
/** Counters an index may be affine in (the test evaluates it at 2^n corners). */
const MAX_RANGED = 3

/** A counter's range: the loop's own (its value on entry to the last one the test allows), or an unrolled loop's constants. */
type Range = { kind: 'loop'; bound: Expr; inclusive: boolean } | { kind: 'const'; lo: number; hi: number }

export interface VersionPlan {
  /** The accesses the fast copy runs unchecked. */
  accesses: Set<IndexExpr>
  /**
   * Accesses proven by the bounds inference gives their index (for every value it takes while
   * the loop runs as it should): not for lanes that run on stale after leaving an inner loop.
   */
  byRange: Set<IndexExpr>
  /** Per access: its array (a parameter's var) and the counters its index depends on, or its index's highest value. */
  checks: { access: IndexExpr; array: number; ranged: number[]; range?: number }[]
  counter: number
  ranges: Map<number, Range>
  /** Locals declared in the body without reassignment: their initializers stand for them. */
  derived: Map<number, Expr>
}

/** What building the entry test needs from the lowering. */
export interface GuardEmitter {
  m: binaryen.Module
  /** The i32 local of an int var. */
  local(v: number): Ref
  /** The i32 length of an array var. */
  length(v: number): Ref
  /** The i32 value of an int-typed expression of invariant leaves (a loop bound). */
  bound(e: Expr): Ref
}

/**
 * How to version `loop`, or null when it does not qualify or has nothing to prove. With
 * `innerLoops`, a body may hold loops of its own (their counters are not invariant, so indices
 * they move stay checked): for vectorized loops, which are emitted only once.
 */
export function versionPlan(loop: ForStmt, inst: Instance, { innerLoops = false } = {}): VersionPlan | null {
  const func = inst.func
  const init = loop.init
  let counter: number | undefined
  if (init?.kind === 'Let' && init.decls.length === 1) counter = func.decls.get(init.decls[0])
  else if (init?.kind === 'ExprStmt' && init.expr.kind === 'Assign' && init.expr.op === '=' && init.expr.target.kind === 'Name') counter = varId(init.expr.target) ?? undefined
  if (counter === undefined || !isIntVar(counter)) return null
  const test = loop.test
  if (test?.kind !== 'Binary' || (test.op !== '<' && test.op !== '<=') || test.left.kind !== 'Name' || varId(test.left) !== counter) return null
  const u = loop.update
  const steps = u?.kind === 'Update' && u.op === '++' && u.target.kind === 'Name' ? u.target
    : u?.kind === 'Assign' && u.op === '+=' && u.target.kind === 'Name' && u.value.kind === 'Num' && Number.isInteger(u.value.value) && u.value.value > 0 ? u.target : null
  if (!steps || varId(steps) !== counter || func.assignedInBody.get(loop)?.has(counter)) return null

  const assigned = func.assignedInLoop.get(loop) ?? new Map<number, number>()
  const declared = new Set<number>()
  const ranges = new Map<number, Range>([[counter, { kind: 'loop', bound: test.right, inclusive: test.op === '<=' }]])
  const derived = new Map<number, Expr>()
  const accesses: IndexExpr[] = []
  let nodes = 0
  let ok = true

  // Leaves of an index (or the bound) that keep their value through the loop.
  const invariant = (v: number): boolean => !assigned.has(v) && !declared.has(v) && isIntVar(v)
  if (!invariantExpr(test.right) || inst.types.get(test.right)?.kind !== 'int') return null

  const walkStmt = (s: Stmt): void => {
    nodes++
    switch (s.kind) {
      case 'Let':
        for (const d of s.decls) {
          const v = func.decls.get(d)!
          declared.add(v)
          if (func.vars[v].assignments === 1 && isIntVar(v)) derived.set(v, d.init)
          walkExpr(d.init)
        }
        return
      case 'If': walkExpr(s.test); walkStmt(s.then); if (s.else) walkStmt(s.else); return
      case 'For': {
        const plan = unrollPlan(s, func)
        if (plan && isIntVar(plan.v)) {
          ranges.set(plan.v, { kind: 'const', lo: plan.values[0], hi: plan.values[plan.values.length - 1] })
          declared.add(plan.v)
          walkStmt(s.body)
          return
        }
        if (!innerLoops) { ok = false; return }
        if (s.init) walkStmt(s.init)
        if (s.test) walkExpr(s.test)
        if (s.update) walkExpr(s.update)
        walkStmt(s.body)
        return
      }
      case 'While': case 'DoWhile':
        if (!innerLoops) { ok = false; return }
        walkExpr(s.test)
        walkStmt(s.body)
        return
      case 'Block': if (s.label) ok = false; else s.body.forEach(walkStmt); return
      case 'ExprStmt': walkExpr(s.expr); return
      case 'Return': if (s.value) walkExpr(s.value); return
      case 'Break': case 'Continue': case 'Empty': return
    }
  }
  const walkExpr = (e: Expr): void => {
    nodes++
    switch (e.kind) {
      case 'Num': case 'Bool': case 'Name': case 'Member': return
      case 'Index':
        if (!inst.inBounds.has(e) && inst.types.get(e.index)?.kind === 'int' && arrayVar(e) !== null) accesses.push(e)
        walkExpr(e.index)
        return
      case 'Call': e.args.forEach(walkExpr); return
      case 'Unary': walkExpr(e.arg); return
      case 'Binary': case 'Logical': walkExpr(e.left); walkExpr(e.right); return
      case 'Cond': walkExpr(e.test); walkExpr(e.then); walkExpr(e.else); return
      case 'Assign': walkExpr(e.target); walkExpr(e.value); return
      case 'Update': walkExpr(e.target); return
      case 'Seq': e.exprs.forEach(walkExpr); return
    }
  }
  walkStmt(loop.body)
  if (!ok || nodes > MAX_BODY_NODES) return null

  /** The counters `e` is affine in, or null when it is not affine in them with invariant rest. */
  const affine = (e: Expr, seen: number): Set<number> | null => {
    if (seen > 16) return null
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) && Math.abs(e.value) < 2 ** 31 ? new Set() : null
      case 'Member': return e.property === 'length' && arrayOfName(e.object) !== null ? new Set() : null
      case 'Name': {
        const v = varId(e)
        if (v === null) return null
        if (ranges.has(v)) return new Set([v])
        if (derived.has(v)) return affine(derived.get(v)!, seen + 1)
        return invariant(v) ? new Set() : null
      }
      case 'Binary': {
        if (e.op !== '+' && e.op !== '-' && e.op !== '*') return null
        const l = affine(e.left, seen)
        const r = affine(e.right, seen)
        if (!l || !r) return null
        if (e.op === '*' && l.size > 0 && r.size > 0) return null
        return new Set([...l, ...r])
      }
      default: return null
    }
  }

  const checks: VersionPlan['checks'] = []
  const byRange = new Set<IndexExpr>()
  for (const a of accesses) {
    const ranged = affine(a.index, 0)
    if (ranged && ranged.size <= MAX_RANGED) {
      // Every counter it depends on must be visible where the test runs: this loop's, or an unrolled one's.
      checks.push({ access: a, array: arrayVar(a)!, ranged: [...ranged] })
      continue
    }
    // Not affine, but inference bounds every value it takes (`hist[v & 255]`): its bounds against the length.
    const t = inst.types.get(a.index)
    if (t?.kind === 'int' && t.lo >= 0 && t.hi <= MAX_RANGE_INDEX) {
      checks.push({ access: a, array: arrayVar(a)!, ranged: [], range: t.hi })
      byRange.add(a)
    }
  }
  if (checks.length === 0) return null
  return { accesses: new Set(checks.map((c) => c.access)), byRange, checks, counter, ranges, derived }

  function varId(ref: Expr): number | null {
    if (ref.kind !== 'Name') return null
    const b = func.names.get(ref)
    return b?.kind === 'var' ? b.id : null
  }
  function isIntVar(v: number): boolean {
    return inst.vars[v]?.kind === 'int' && !inst.wrapped.has(v)
  }
  function arrayOfName(ref: Expr): number | null {
    const v = varId(ref)
    return v !== null && inst.vars[v].kind === 'array' ? v : null
  }
  function arrayVar(e: IndexExpr): number | null {
    return arrayOfName(e.object)
  }
  function invariantExpr(e: Expr): boolean {
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) && Math.abs(e.value) < 2 ** 31
      case 'Member': return e.property === 'length' && arrayOfName(e.object) !== null
      case 'Name': { const v = varId(e); return v !== null && !assigned.has(v) && isIntVar(v) }
      case 'Binary': return (e.op === '+' || e.op === '-' || e.op === '*') && invariantExpr(e.left) && invariantExpr(e.right)
      default: return false
    }
  }
}

/**
 * The entry test: for every check, its index at every corner of its counters' ranges lies in
 * [0, length). Evaluated in i64 from the i32 leaves, so nothing overflows; run after the
 * loop's initializer, when the counter holds its first value.
 */
export function emitGuard(plan: VersionPlan, g: GuardEmitter, inst: Instance): Ref {
  const m = g.m
  const func = inst.func
  // (binaryen.js takes a bigint; its typings still say number.)
  const i64 = (n: number): Ref => m.i64.const(BigInt(n) as unknown as number)
  const last = (r: Extract<Range, { kind: 'loop' }>): Ref => {
    const b = m.i64.extend_s(g.bound(r.bound))
    return r.inclusive ? b : m.i64.sub(b, i64(1))
  }
  const at = (e: Expr, corner: Map<number, (() => Ref) | number>): Ref => {
    switch (e.kind) {
      case 'Num': return i64(e.value)
      case 'Member': {
        const b = func.names.get(e.object)
        return m.i64.extend_u(g.length((b as { id: number }).id))
      }
      case 'Name': {
        const v = (func.names.get(e) as { id: number }).id
        const c = corner.get(v)
        if (c !== undefined) return typeof c === 'number' ? i64(c) : c()
        if (plan.derived.has(v)) return at(plan.derived.get(v)!, corner)
        return m.i64.extend_s(g.local(v))
      }
      case 'Binary': {
        const l = at(e.left, corner)
        const r = at(e.right, corner)
        return e.op === '+' ? m.i64.add(l, r) : e.op === '-' ? m.i64.sub(l, r) : m.i64.mul(l, r)
      }
      default: throw new Error('internal: not an affine index')
    }
  }
  const tests: Ref[] = []
  for (const c of plan.checks) {
    if (c.range !== undefined) {
      tests.push(m.i64.lt_u(i64(c.range), m.i64.extend_u(g.length(c.array))))
      continue
    }
    const ends = c.ranged.map((v) => {
      const r = plan.ranges.get(v)!
      return r.kind === 'const' ? [r.lo, r.hi] : [() => m.i64.extend_s(g.local(v)), () => last(r)]
    })
    for (let bits = 0; bits < 1 << c.ranged.length; bits++) {
      const corner = new Map<number, (() => Ref) | number>(c.ranged.map((v, k) => [v, ends[k][(bits >> k) & 1]]))
      // Unsigned: a negative index is a huge one, so one comparison tests both ends.
      tests.push(m.i64.lt_u(at(c.access.index, corner), m.i64.extend_u(g.length(c.array))))
    }
  }
  return tests.reduce((a, b) => m.i32.and(a, b))
}
