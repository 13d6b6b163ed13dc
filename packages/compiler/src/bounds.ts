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
//
// A clamped term (`clamp(x + k, 0, w - 1)` through a helper, its ternary written out, or
// `Math.min(Math.max(…, lo), hi)`) is not affine, but its value lies between invariant ends:
// it ranges over them as a counter would (clampBounds), so a blur's edge-clamped taps are
// tested once per row too.

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
/** Distinct ends of a clamped term (each multiplies the corners tested). */
const MAX_ENDS = 3

/**
 * A counter's range: the loop's own (its value on entry to the last one the test allows), an
 * unrolled loop's constants, or a clamped term's invariant ends (its value is never outside
 * the lowest and highest of them).
 */
type Range =
  | { kind: 'loop'; bound: Expr; inclusive: boolean; step: number }
  | { kind: 'const'; lo: number; hi: number }
  | { kind: 'ends'; ends: Expr[] }
  | { kind: 'inner'; first: Expr; bound: Expr; inclusive: boolean; step: number }

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
  /** Clamped terms of indices, each ranged as the pseudo-counter (a negative id) it maps to. */
  terms: Map<Expr, number>
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
export function versionPlan(loop: ForStmt, inst: Instance, { innerLoops = false, proven = new Set<IndexExpr>() }: { innerLoops?: boolean; proven?: ReadonlySet<IndexExpr> } = {}): VersionPlan | null {
  const func = inst.func
  const header = countedHeader(loop)
  if (!header) return null
  const { counter, bound, inclusive, step } = header

  const assigned = func.assignedInLoop.get(loop) ?? new Map<number, number>()
  const declared = new Set<number>()
  const ranges = new Map<number, Range>([[counter, { kind: 'loop', bound, inclusive, step }]])
  const derived = new Map<number, Expr>()
  const terms = new Map<Expr, number>()
  const accesses: IndexExpr[] = []
  let nodes = 0
  let ok = true

  // Leaves of an index (or the bound) that keep their value through the loop.
  const invariant = (v: number): boolean => !assigned.has(v) && !declared.has(v) && isIntVar(v)
  if (!endExpr(bound) || inst.types.get(bound)?.kind !== 'int') return null

  const walkStmt = (s: Stmt): void => {
    nodes++
    switch (s.kind) {
      case 'Let':
        for (const d of s.decls) {
          const v = func.decls.get(d)!
          declared.add(v)
          if (func.vars[v].assignments === 1 && isIntVar(v)) {
            const ends = d.init.kind === 'Call' || d.init.kind === 'Cond' ? clampEnds(d.init) : null
            if (ends) ranges.set(v, { kind: 'ends', ends })
            else derived.set(v, d.init)
          }
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
        if (!innerLoops) {
          // A counted inner loop from an invariant start to an invariant bound (`for (let c = 0;
          // c < 3; c++)`): its counter ranges from that start to its last value, a corner each.
          const h = countedHeader(s)
          const first = h && s.init?.kind === 'Let' ? s.init.decls[0].init : null
          if (!h || !first || !endExpr(first) || !endExpr(h.bound)) { ok = false; return }
          ranges.set(h.counter, { kind: 'inner', first, bound: h.bound, inclusive: h.inclusive, step: h.step })
          declared.add(h.counter)
          walkStmt(s.body)
          return
        }
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
        if (!inst.inBounds.has(e) && !proven.has(e) && inst.types.get(e.index)?.kind === 'int' && arrayVar(e) !== null) accesses.push(e)
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
      case 'Call': case 'Cond': {
        // (A term reached twice, through a local several indices use, keeps its one id.)
        const known = terms.get(e)
        if (known !== undefined) return new Set([known])
        if (inst.types.get(e)?.kind !== 'int') return null
        const ends = clampEnds(e)
        if (!ends) return null
        const id = -1 - terms.size
        terms.set(e, id)
        ranges.set(id, { kind: 'ends', ends })
        return new Set([id])
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
  return { accesses: new Set(checks.map((c) => c.access)), byRange, checks, counter, ranges, derived, terms }

  /**
   * The invariant ends between which a clamped int expression always lies, or null: a helper
   * of one `return` (its parameters standing for the call's arguments), a ternary, Math.min and
   * Math.max, read with what each branch's test says about the value (clampBounds).
   */
  function clampEnds(e: Expr): Expr[] | null {
    if (inst.types.get(e)?.kind !== 'int') return null
    const b = clampBounds(e, { inst, args: null, root: inst, isEnd: endExpr }, [], 0)
    if (!b?.lo || !b.hi) return null
    const ends: Expr[] = []
    for (const end of [...b.lo, ...b.hi]) if (!ends.some((other) => sameShape(other, end, inst))) ends.push(end)
    return ends.length <= MAX_ENDS ? ends : null
  }

  /** A counted loop's counter, bound and step: `for (c = …; c < bound; c++ | c += k)`, c not assigned in the body. */
  function countedHeader(l: ForStmt): { counter: number; bound: Expr; inclusive: boolean; step: number } | null {
    const init = l.init
    let c: number | undefined
    if (init?.kind === 'Let' && init.decls.length === 1) c = func.decls.get(init.decls[0])
    else if (init?.kind === 'ExprStmt' && init.expr.kind === 'Assign' && init.expr.op === '=' && init.expr.target.kind === 'Name') c = varId(init.expr.target) ?? undefined
    if (c === undefined || !isIntVar(c)) return null
    const t = l.test
    if (t?.kind !== 'Binary' || (t.op !== '<' && t.op !== '<=') || t.left.kind !== 'Name' || varId(t.left) !== c) return null
    const u = l.update
    const steps = u?.kind === 'Update' && u.op === '++' && u.target.kind === 'Name' ? u.target
      : u?.kind === 'Assign' && u.op === '+=' && u.target.kind === 'Name' && u.value.kind === 'Num' && Number.isInteger(u.value.value) && u.value.value > 0 ? u.target : null
    if (!steps || varId(steps) !== c || func.assignedInBody.get(l)?.has(c)) return null
    return { counter: c, bound: t.right, inclusive: t.op === '<=', step: u?.kind === 'Assign' ? (u.value as Extract<Expr, { kind: 'Num' }>).value : 1 }
  }
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
  /** An expression the entry test can evaluate (the loop's bound, an inner loop's, a clamp's end): invariant, and of nothing declared in the body. */
  function endExpr(e: Expr): boolean {
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) && Math.abs(e.value) < 2 ** 31
      case 'Member': return e.property === 'length' && arrayOfName(e.object) !== null
      case 'Name': { const v = varId(e); return v !== null && invariant(v) }
      case 'Binary': return (e.op === '+' || e.op === '-' || e.op === '*') && endExpr(e.left) && endExpr(e.right)
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
  // A counter's last value: the highest `first + k * step` up to `top` (the bound, less 1
  // unless inclusive). A loop that does not run gives one below its start, which only fails the test.
  const lastValue = (first: () => Ref, bound: Ref, inclusive: boolean, step: number): Ref => {
    const top = inclusive ? bound : m.i64.sub(bound, i64(1))
    if (step === 1) return top
    return m.i64.add(first(), m.i64.mul(m.i64.div_s(m.i64.sub(top, first()), i64(step)), i64(step)))
  }
  // This loop's counter starts at its current value (the test runs after the initializer).
  const last = (r: Extract<Range, { kind: 'loop' }>): Ref =>
    lastValue(() => m.i64.extend_s(g.local(plan.counter)), m.i64.extend_s(g.bound(r.bound)), r.inclusive, r.step)
  const at = (e: Expr, corner: Map<number, (() => Ref) | number>): Ref => {
    const term = plan.terms.get(e)
    if (term !== undefined) {
      const c = corner.get(term)!
      return typeof c === 'number' ? i64(c) : c()
    }
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
    const ends = c.ranged.map((v): ((() => Ref) | number)[] => {
      const r = plan.ranges.get(v)!
      if (r.kind === 'const') return [r.lo, r.hi]
      if (r.kind === 'ends') return r.ends.map((e) => () => at(e, new Map()))
      if (r.kind === 'inner') {
        // An inner loop's counter: from its start to its last value.
        const first = (): Ref => at(r.first, new Map())
        return [first, () => lastValue(first, at(r.bound, new Map()), r.inclusive, r.step)]
      }
      return [() => m.i64.extend_s(g.local(v)), () => last(r)]
    })
    // Every combination of ends (the corners of the box).
    let corners: Map<number, (() => Ref) | number>[] = [new Map()]
    c.ranged.forEach((v, k) => {
      corners = corners.flatMap((corner) => ends[k].map((end) => new Map([...corner, [v, end]])))
    })
    // Unsigned: a negative index is a huge one, so one comparison tests both ends.
    for (const corner of corners) tests.push(m.i64.lt_u(at(c.access.index, corner), m.i64.extend_u(g.length(c.array))))
  }
  return tests.reduce((a, b) => m.i32.and(a, b))
}

/** What an expression's int value is known to lie between: at least the lowest of `lo`, at most the highest of `hi`. */
interface Bounds { lo: Expr[] | null; hi: Expr[] | null }

/** Where clampBounds reads: an instance, and for a helper's body, its parameters' arguments in the caller. */
interface Scope {
  inst: Instance
  args: Expr[] | null
  /** The instance the ends belong to. */
  root: Instance
  /** Whether an expression of the root is an end: invariant while the loop runs. */
  isEnd: (e: Expr) => boolean
}

/** A branch condition known true: `value` (a subject) is at least or at most `end`. */
interface Fact { subject: Expr; scope: Scope; lo?: Expr; hi?: Expr }

/**
 * Bounds of `e` (an int expression of `scope`), with ends in the caller's terms: an invariant
 * leaf bounds itself; Math.max is at least either operand's lower bound and at most the highest
 * upper bound, Math.min the mirror; a ternary is either branch, each read under what its test
 * says (`x < lo ? lo : x` is at least `lo` in the else branch); a one-`return` helper is its
 * return value with its parameters bound to the call's arguments. Null where nothing is known.
 */
function clampBounds(e: Expr, scope: Scope, facts: Fact[], depth: number): Bounds | null {
  if (depth > 8) return null
  const outer = outerExpr(e, scope)
  if (outer && scope.isEnd(outer)) return { lo: [outer], hi: [outer] }
  // What the tests of the branches around `e` say about it, keeping only invariant ends.
  const known = facts.filter((f) => sameValue(f.subject, f.scope, e, scope))
  const lo = known.flatMap((f) => (f.lo && scope.isEnd(f.lo) ? [f.lo] : []))
  const hi = known.flatMap((f) => (f.hi && scope.isEnd(f.hi) ? [f.hi] : []))
  if (lo.length && hi.length) return { lo: [lo[0]], hi: [hi[0]] }
  const join = (parts: (Bounds | null)[], side: 'lo' | 'hi'): Expr[] | null =>
    parts.every((p) => p?.[side]) ? parts.flatMap((p) => p![side]!) : null
  const pick = (parts: (Bounds | null)[], side: 'lo' | 'hi'): Expr[] | null => parts.find((p) => p?.[side])?.[side] ?? null
  let found: Bounds | null = null
  if (e.kind === 'Call' && (e.mathName === 'max' || e.mathName === 'min') && e.args.length > 0) {
    const parts = e.args.map((a) => clampBounds(a, scope, facts, depth + 1))
    found = e.mathName === 'max' ? { lo: pick(parts, 'lo'), hi: join(parts, 'hi') } : { lo: join(parts, 'lo'), hi: pick(parts, 'hi') }
  } else if (e.kind === 'Call' && !e.mathName) {
    const callee = scope.inst.calls.get(e)
    const body = callee?.func.fn.body
    const ret = body?.length === 1 && body[0].kind === 'Return' ? body[0].value : null
    if (callee && ret && callee.func.vars.every((v) => v.assignments <= 1)) {
      const args = e.args.map((a) => outerExpr(a, scope))
      if (args.every((a) => a !== null)) found = clampBounds(ret, { ...scope, inst: callee, args: args as Expr[] }, [], depth + 1)
    }
  } else if (e.kind === 'Cond') {
    const test = comparison(e.test)
    const then = clampBounds(e.then, scope, test ? [...facts, ...test(true, scope)] : facts, depth + 1)
    const other = clampBounds(e.else, scope, test ? [...facts, ...test(false, scope)] : facts, depth + 1)
    found = { lo: join([then, other], 'lo'), hi: join([then, other], 'hi') }
  }
  if (!found) return lo.length || hi.length ? { lo: lo.length ? [lo[0]] : null, hi: hi.length ? [hi[0]] : null } : null
  return { lo: lo.length ? [lo[0]] : found.lo, hi: hi.length ? [hi[0]] : found.hi }
}

/** What `a < b` (or <=, >, >=) says about its operands when it is `holds`: each bounded by the other, where that one is a leaf. */
function comparison(test: Expr): ((holds: boolean, scope: Scope) => Fact[]) | null {
  if (test.kind !== 'Binary' || !['<', '<=', '>', '>='].includes(test.op)) return null
  // `l < r` or `l <= r` true: l at most r, r at least l; false: the reverse.
  const less = test.op === '<' || test.op === '<='
  return (holds, scope) => {
    const [small, big] = less === holds ? [test.left, test.right] : [test.right, test.left]
    const facts: Fact[] = []
    const smallOuter = outerExpr(small, scope)
    const bigOuter = outerExpr(big, scope)
    if (bigOuter) facts.push({ subject: small, scope, hi: bigOuter })
    if (smallOuter) facts.push({ subject: big, scope, lo: smallOuter })
    return facts
  }
}

/** `e` of `scope` as an expression of the caller: a helper's parameter becomes its argument; null for a helper's own locals. */
function outerExpr(e: Expr, scope: Scope): Expr | null {
  if (!scope.args) return e
  switch (e.kind) {
    case 'Num': return e
    case 'Name': {
      const b = scope.inst.func.names.get(e)
      if (b?.kind !== 'var' || b.id >= scope.args.length) return null
      return scope.args[b.id]
    }
    case 'Binary': {
      if (e.op !== '+' && e.op !== '-' && e.op !== '*') return null
      const l = outerExpr(e.left, scope)
      const r = l && outerExpr(e.right, scope)
      return l && r ? { ...e, left: l, right: r } : null
    }
    default: return null
  }
}

/** Whether two pure int expressions always have the same value: the same shape over the same variables. */
function sameValue(a: Expr, as: Scope, b: Expr, bs: Scope): boolean {
  const x = outerExpr(a, as)
  const y = outerExpr(b, bs)
  return x !== null && y !== null && sameShape(x, y, bs.root)
}

/** Same shape over the same bindings of the caller (`root`), where every such expression lives. */
function sameShape(a: Expr, b: Expr, root: Instance): boolean {
  if (a.kind !== b.kind) return false
  switch (a.kind) {
    case 'Num': return a.value === (b as typeof a).value
    case 'Name': {
      const x = root.func.names.get(a)
      const y = root.func.names.get(b as typeof a)
      return x?.kind === 'var' && y?.kind === 'var' ? x.id === y.id : x !== undefined && JSON.stringify(x) === JSON.stringify(y)
    }
    case 'Member': return a.object.name === (b as typeof a).object.name && a.property === (b as typeof a).property
    case 'Binary': {
      const o = b as typeof a
      return a.op === o.op && sameShape(a.left, o.left, root) && sameShape(a.right, o.right, root)
    }
    default: return false
  }
}
