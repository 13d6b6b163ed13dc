// Two iterations at once in wasm simd128 (f64x2 lanes), with results bit-identical to running
// them one after the other. A loop qualifies when its iterations are independent:
//
//   - it is the unchecked copy of a versioned loop (bounds.ts), step 1, no break/continue/return
//     of its own, no helper calls, and it assigns no local declared outside it (an accumulator
//     such as `s += a[i]` is a reduction, which this never reorders);
//   - each array it writes is indexed with the same stride in the counter by every access to it,
//     and the accesses' constant offsets are closer together than that stride, so two iterations
//     never touch one element; arrays that may share memory are told apart by a test of their
//     byte ranges on entry.
//
// Each lane then computes exactly the scalar operations of its iteration, in the same order:
// IEEE arithmetic, sqrt, floor/ceil/trunc, min/max and comparisons are lane-wise in simd128
// with the scalar results; the other Math functions are called once per lane. Inner loops
// (a Mandelbrot pixel's escape loop) run while any lane is active, each lane's locals changing
// only while it is (bitselect); `if` becomes masks. Loads and stores of f64 at a stride of 1 are
// v128 loads and stores, the rest one element per lane. Numbers are f64 lanes throughout: an
// int value is exact in an f64, so a lane holds the JS value whatever the scalar code's
// representation.

import binaryen from 'binaryen'
import type { Expr, ForStmt, IndexExpr, LoopStmt, Stmt } from './ast.js'
import type { VersionPlan } from './bounds.js'
import type { Instance } from './infer.js'
import { mathConstants, mathFunctions } from './math.js'
import { elementShift, type ElementTypeName } from './signature.js'
import type { Type } from './types.js'
import { unrollPlan } from './unroll.js'

type Ref = binaryen.ExpressionRef

/** Math functions with a lane-wise simd128 instruction (same result as the scalar one). */
const laneMath = new Set(['sqrt', 'abs', 'floor', 'ceil', 'trunc'])
/** Statements and expressions in a vectorized body, at most. */
const MAX_NODES = 400

export interface LanePlan {
  counter: number
  /** What the counter adds per iteration: lane 1 is lane 0's iteration plus this. */
  step: number
  /** Locals declared inside the loop: one v128 each. */
  laneVars: Set<number>
  /** Inner loops that run with lane masks (not unrolled). */
  innerLoops: Set<LoopStmt>
  /** Accesses of consecutive elements from one lane to the next (stride × step = 1). */
  unitStride: Set<IndexExpr>
  /** Array pairs that must not share memory: [written, other]. */
  disjoint: [number, number][]
  /**
   * Per inner loop, the lane locals read only inside it: a lane that has left the loop never
   * reads them again, so they are assigned without keeping its old value.
   */
  loopLocal: Map<LoopStmt, Set<number>>
  /**
   * Lane locals that only count: declared with an integer literal other than -0 and changed by
   * `++` / `--` alone, so they never hold -0 (and + 0 leaves them as they are).
   */
  counters: Set<number>
}

/** What emitting lanes needs from the scalar lowering. */
export interface LaneEmitter {
  m: binaryen.Module
  addLocal(t: binaryen.Type): number
  /** The scalar local of a var (i32 for int, f64 for numbers). */
  scalarLocal(v: number): { index: number; type: binaryen.Type }
  array(v: number): { ptr: number; len: number; element: ElementTypeName }
  loadElement(element: ElementTypeName, addr: Ref): { ref: Ref; type: Type }
  storeElement(element: ElementTypeName, addr: Ref, value: Ref, t: Type): Ref
  mathImport(name: string, arity: number): string
  /** The module constant's number (scalar constants only). */
  constantValue(name: string): number | null
  /** The module's constants. */
  constants: ReadonlyMap<string, unknown>
}

const f64t: Type = { kind: 'f64' }

/**
 * Whether lanes take `Math.name` with `arity` arguments: a lane-wise instruction, min/max of
 * two, or a host function of fixed arity called once per lane (not random, whose calls would
 * come in another order, nor pow, whose inline exponents are decided elsewhere).
 */
function laneMathCall(name: string, arity: number): boolean {
  const info = mathFunctions.get(name)
  if (!info) return false
  if (name === 'min' || name === 'max') return arity === 2
  if (laneMath.has(name)) return arity === info.arity
  return info.lowering === 'import' && name !== 'random' && name !== 'pow' && info.arity === arity
}

/** `TABLE[2]`: the element of a module constant array at a literal index in bounds, or null. */
function elementOfConstant(func: Instance['func'], constants: ReadonlyMap<string, unknown>, e: IndexExpr): number | null {
  const b = func.names.get(e.object)
  const values = b?.kind === 'const' ? constants.get(b.name) : undefined
  if (!Array.isArray(values) || e.index.kind !== 'Num') return null
  const v = values[e.index.value]
  return typeof v === 'number' ? v : null
}

/** Whether `loop` (already versioned by `version`) can run two iterations at once. */
export function lanePlan(loop: ForStmt, inst: Instance, version: VersionPlan, constants: ReadonlyMap<string, unknown>): LanePlan | null {
  const func = inst.func
  const counter = version.counter
  // The counter's step, as versionPlan read it from the loop's update.
  const range = version.ranges.get(counter)
  const step = range?.kind === 'loop' ? range.step : 1
  const assigned = func.assignedInLoop.get(loop) ?? new Map<number, number>()
  const laneVars = new Set<number>()
  const innerLoops = new Set<LoopStmt>()
  const unrolled = new Set<number>()
  const unrolledRange = new Map<number, [number, number]>()
  const accesses: { e: IndexExpr; write: boolean }[] = []
  /** The inner loops around the expression being looked at, and each lane local's reads' loops. */
  const innerStack: LoopStmt[] = []
  const reads = new Map<number, LoopStmt[][]>()
  /** Lane locals assigned other than by `++` / `--`. */
  const assignedOtherwise = new Set<number>()
  let nodes = 0
  const varId = (e: Expr): number | null => {
    if (e.kind !== 'Name') return null
    const b = func.names.get(e)
    return b?.kind === 'var' ? b.id : null
  }
  /** `TABLE[2]`: a module constant array at a literal index in bounds, or null. */
  const constElement = (e: IndexExpr): number | null => elementOfConstant(func, constants, e)
  const numeric = (t: Type | null | undefined): boolean => t?.kind === 'f64' || t?.kind === 'int' || t?.kind === 'maybeNum'
  const laneVar = (v: number): boolean => {
    if (inst.wrapped.has(v) || !numeric(inst.vars[v])) return false
    laneVars.add(v)
    return true
  }

  const stmt = (s: Stmt, inner: LoopStmt | null): boolean => {
    nodes++
    switch (s.kind) {
      case 'Let': return s.decls.every((d) => laneVar(func.decls.get(d)!) && value(d.init))
      case 'If': return cond(s.test) && stmt(s.then, inner) && (!s.else || stmt(s.else, inner))
      case 'Block': return !s.label && s.body.every((x) => stmt(x, inner))
      case 'Empty': return true
      case 'ExprStmt': return effect(s.expr)
      case 'Break': return inner !== null && func.jumps.get(s) === inner
      case 'For': {
        const plan = unrollPlan(s, func)
        if (plan) {
          unrolled.add(plan.v)
          unrolledRange.set(plan.v, [plan.values[0], plan.values[plan.values.length - 1]])
          return stmt(s.body, inner)
        }
        innerLoops.add(s)
        if (s.init && !stmt(s.init, inner)) return false
        innerStack.push(s)
        const ok = (!s.test || cond(s.test)) && (!s.update || effect(s.update)) && stmt(s.body, s)
        innerStack.pop()
        return ok
      }
      case 'While': case 'DoWhile': {
        innerLoops.add(s)
        innerStack.push(s)
        const ok = cond(s.test) && stmt(s.body, s)
        innerStack.pop()
        return ok
      }
      case 'Continue': case 'Return': return false
    }
  }
  // A statement-level assignment or update: of a lane local, or a store.
  const effect = (e: Expr): boolean => {
    nodes++
    if (e.kind === 'Assign') {
      if (e.target.kind === 'Name') {
        const v = varId(e.target)
        if (v === null || !laneVars.has(v)) return false
        if (e.op !== '=' && !['+=', '-=', '*=', '/='].includes(e.op)) return false
        assignedOtherwise.add(v)
        return value(e.value)
      }
      if (e.op !== '=') return false
      accesses.push({ e: e.target, write: true })
      return index(e.target) && value(e.value)
    }
    if (e.kind === 'Update') {
      const v = e.target.kind === 'Name' ? varId(e.target) : null
      return v !== null && laneVars.has(v)
    }
    return false
  }
  const index = (e: IndexExpr): boolean => {
    const v = varId(e.object)
    if (v === null || inst.vars[v].kind !== 'array') return false
    // Inside an inner loop, lanes that have left it run on with stale locals: only indices the
    // entry test proved for every iteration are safe there.
    if (innerStack.length > 0 ? !version.accesses.has(e) || version.byRange.has(e) : !version.accesses.has(e) && !inst.inBounds.has(e)) return false
    return inst.types.get(e.index)?.kind === 'int' && value(e.index)
  }
  const value = (e: Expr): boolean => {
    nodes++
    if (!numeric(inst.types.get(e))) return false
    switch (e.kind) {
      case 'Num': return true
      case 'Name': {
        const b = func.names.get(e)
        if (b?.kind === 'builtin') return true
        if (b?.kind === 'const') return true
        if (b?.kind !== 'var') return false
        const v = b.id
        if (laneVars.has(v)) {
          if (!reads.has(v)) reads.set(v, [])
          reads.get(v)!.push([...innerStack])
          return true
        }
        if (v === counter || unrolled.has(v)) return true
        return !assigned.has(v) && !inst.wrapped.has(v) && numeric(inst.vars[v])
      }
      case 'Member': return e.property === 'length' || e.object.name === 'Math'
      case 'Index':
        if (constElement(e) !== null) return true
        accesses.push({ e, write: false })
        return index(e)
      case 'Unary': return (e.op === '-' || e.op === '+') && value(e.arg)
      case 'Binary': return ['+', '-', '*', '/'].includes(e.op) && value(e.left) && value(e.right)
      case 'Cond': return cond(e.test) && value(e.then) && value(e.else)
      case 'Call': {
        if (!e.mathName) return e.args.every(value) && inlinable(inst.calls.get(e))
        return laneMathCall(e.mathName, e.args.length) && e.args.every(value)
      }
      default: return false
    }
  }
  const cond = (e: Expr): boolean => {
    nodes++
    switch (e.kind) {
      case 'Binary':
        if (['<', '<=', '>', '>=', '===', '!==', '==', '!='].includes(e.op)) return value(e.left) && value(e.right)
        return value(e)
      case 'Logical': return e.op !== '??' && cond(e.left) && cond(e.right)
      case 'Unary': return e.op === '!' ? cond(e.arg) : value(e)
      case 'Bool': return true
      default: return value(e)
    }
  }

  /**
   * A helper that lanes can take inline: numeric parameters, a body of declarations then one
   * `return`, every expression pure and lane-wise (its arguments are evaluated once, in order,
   * so inlining changes nothing).
   */
  function inlinable(callee: Instance | undefined, depth = 0): boolean {
    if (!callee || depth > 4 || !callee.params.every(numeric) || !numeric(callee.result)) return false
    const body = callee.func.fn.body
    const ret = body[body.length - 1]
    if (ret?.kind !== 'Return' || !ret.value) return false
    const f = callee.func
    const pure = (e: Expr): boolean => {
      nodes++
      if (!numeric(callee.types.get(e))) return false
      switch (e.kind) {
        case 'Num': return true
        case 'Name': {
          const b = f.names.get(e)
          if (b?.kind === 'builtin' || b?.kind === 'const') return true
          return b?.kind === 'var' && numeric(callee.vars[b.id]) && !callee.wrapped.has(b.id) && f.vars[b.id].assignments === 1
        }
        case 'Member': return e.object.name === 'Math'
        case 'Unary': return (e.op === '-' || e.op === '+') && pure(e.arg)
        case 'Binary': return ['+', '-', '*', '/'].includes(e.op) && pure(e.left) && pure(e.right)
        case 'Cond': return pureCond(e.test) && pure(e.then) && pure(e.else)
        case 'Call': {
          if (!e.mathName) return e.args.every(pure) && inlinable(callee.calls.get(e), depth + 1)
          return laneMathCall(e.mathName, e.args.length) && e.args.every(pure)
        }
        default: return false
      }
    }
    const pureCond = (e: Expr): boolean => {
      nodes++
      if (e.kind === 'Bool') return true
      if (e.kind === 'Logical') return e.op !== '??' && pureCond(e.left) && pureCond(e.right)
      if (e.kind === 'Unary' && e.op === '!') return pureCond(e.arg)
      if (e.kind === 'Binary' && ['<', '<=', '>', '>=', '===', '!==', '==', '!='].includes(e.op)) return pure(e.left) && pure(e.right)
      return pure(e)
    }
    return body.slice(0, -1).every((st) => st.kind === 'Let' && st.decls.every((d) => {
      const v = f.decls.get(d)!
      return numeric(callee.vars[v]) && !callee.wrapped.has(v) && f.vars[v].assignments === 1 && pure(d.init)
    })) && pure(ret.value)
  }

  if (!stmt(loop.body, null) || nodes > MAX_NODES) return null
  // A local declared outside and assigned inside carries a value from one iteration to the next.
  for (const v of assigned.keys()) if (v !== counter && !laneVars.has(v) && !unrolled.has(v)) return null

  // Writes: per array, every access at one stride in the counter, offsets closer than it.
  const written = new Set(accesses.filter((a) => a.write).map((a) => varId(a.e.object)!))
  for (const w of written) {
    const forms = accesses.filter((a) => varId(a.e.object) === w).map((a) => strideForm(a.e.index))
    if (forms.some((f) => f === null)) return null
    const stride = forms[0]!.stride
    if (stride <= 0 || forms.some((f) => f!.stride !== stride || f!.rest !== forms[0]!.rest)) return null
    // Consecutive iterations index stride × step apart.
    if (Math.max(...forms.map((f) => f!.hi)) - Math.min(...forms.map((f) => f!.lo)) >= stride * step) return null
  }
  const arrays = new Set(accesses.map((a) => varId(a.e.object)!))
  const disjoint: [number, number][] = []
  for (const w of written) for (const o of arrays) if (o !== w && !(written.has(o) && o < w)) disjoint.push([w, o])
  const loopLocal = new Map<LoopStmt, Set<number>>()
  for (const l of innerLoops) loopLocal.set(l, new Set([...laneVars].filter((v) => (reads.get(v) ?? []).every((stack) => stack.includes(l)))))
  const unitStride = new Set(accesses.filter((a) => (strideForm(a.e.index)?.stride ?? 0) * step === 1).map((a) => a.e))
  const counters = new Set([...laneVars].filter((v) => {
    const init = func.vars[v].init
    return init?.kind === 'Num' && Number.isInteger(init.value) && !Object.is(init.value, -0) && !assignedOtherwise.has(v)
  }))
  return { counter, step, laneVars, innerLoops, unitStride, disjoint, loopLocal, counters }

  /**
   * `e` as stride × counter + rest + an offset in [lo, hi]: rest a canonical text of the
   * invariant part, the offset constants and unrolled counters' ranges; null when the counter
   * enters other than linearly with a constant stride.
   */
  function strideForm(e: Expr): { stride: number; rest: string; lo: number; hi: number } | null {
    const p = poly(e)
    if (!p) return null
    let stride = 0
    let lo = 0
    let hi = 0
    const rest: string[] = []
    for (const [key, c] of p) {
      const leaves = key.split('*')
      if (key === 'i') stride += c
      else if (key === '') { lo += c; hi += c }
      else if (leaves.includes('i')) return null
      else if (leaves.length === 1 && key.startsWith('u')) {
        const [a, b] = unrolledRange.get(Number(key.slice(1)))!
        lo += Math.min(c * a, c * b)
        hi += Math.max(c * a, c * b)
      } else if (leaves.some((l) => l.startsWith('u'))) return null
      else rest.push(`${c}·${key}`)
    }
    return { stride, rest: rest.sort().join('+'), lo, hi }
  }
  /** A polynomial over the counter ('i') and invariant leaves; monomials keyed by sorted leaf names. */
  function poly(e: Expr): Map<string, number> | null {
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) ? new Map([['', e.value]]) : null
      case 'Member': return e.property === 'length' ? new Map([[`len:${e.object.name}`, 1]]) : null
      case 'Name': {
        const v = varId(e)
        if (v === null) return null
        if (v === counter) return new Map([['i', 1]])
        if (unrolled.has(v)) return new Map([[`u${v}`, 1]])
        if (laneVars.has(v)) {
          const init = func.vars[v].init
          return func.vars[v].assignments === 1 && init ? poly(init) : null
        }
        return assigned.has(v) ? null : new Map([[`v${v}`, 1]])
      }
      case 'Binary': {
        const l = poly(e.left)
        const r = poly(e.right)
        if (!l || !r) return null
        const out = new Map<string, number>()
        const add = (k: string, c: number) => out.set(k, (out.get(k) ?? 0) + c)
        if (e.op === '+' || e.op === '-') {
          for (const [k, c] of l) add(k, c)
          for (const [k, c] of r) add(k, e.op === '+' ? c : -c)
        } else if (e.op === '*') {
          for (const [a, ca] of l) for (const [b, cb] of r) add([...a.split('*'), ...b.split('*')].filter(Boolean).sort().join('*'), ca * cb)
        } else return null
        for (const [k, c] of out) if (c === 0) out.delete(k)
        return out
      }
      default: return null
    }
  }
}

/**
 * The vectorized loop: while two iterations remain (counter + 1 within the test), both at
 * once; the caller then runs the scalar loop for what is left. Emitted only when the arrays
 * that must not overlap do not.
 */
export function emitLanes(plan: LanePlan, loop: ForStmt, inst: Instance, env: LaneEmitter, lowerBound: () => Ref, label: string): Ref {
  const { m } = env
  const func = inst.func
  const v128 = binaryen.v128
  // An escape-time loop (one inner loop at the top of the body) runs two groups of two lanes
  // through one fused inner loop: four iterations in flight hide the latency of each one's
  // chain of dependent operations. Elsewhere one group.
  const body = loop.body.kind === 'Block' ? loop.body.body : [loop.body]
  const fusedAt = plan.innerLoops.size === 1 ? body.findIndex((x) => plan.innerLoops.has(x as LoopStmt)) : -1
  const groupCount = fusedAt >= 0 ? 2 : 1
  const groups = Array.from({ length: groupCount }, (_, g) => {
    const locals = new Map<number, number>()
    for (const v of plan.laneVars) locals.set(v, env.addLocal(v128))
    return { base: 2 * g, locals }
  })
  /** The group being emitted: its first lane's iteration (counter + base × step) and its lane locals. */
  let groupBase = 0
  let laneLocal = groups[0].locals
  const inGroup = <T>(g: { base: number; locals: Map<number, number> }, emit: () => T): T => {
    groupBase = g.base
    laneLocal = g.locals
    return emit()
  }
  const counterLocal = env.scalarLocal(plan.counter).index
  /** Constants an unrolled inner loop's counter holds in the copy being emitted. */
  const unrolledValue = new Map<number, number>()
  let labelCount = 0

  const splat = (x: Ref): Ref => m.f64x2.splat(x)
  /** Values computed once, before the loop (V8 rematerializes v128 constants at each use): invariant scalars splatted, constant pairs. */
  const prelude: Ref[] = []
  const hoisted = new Map<string, number>()
  const hoist = (key: string, make: () => Ref): Ref => {
    let l = hoisted.get(key)
    if (l === undefined) {
      l = env.addLocal(v128)
      hoisted.set(key, l)
      prelude.push(m.local.set(l, make()))
    }
    return m.local.get(l, v128)
  }
  const invariantLanes = (key: string, scalar: () => Ref): Ref => hoist(key, () => splat(scalar()))
  const constLanes = (a: number, b: number): Ref => {
    const bytes = new Uint8Array(16)
    new Float64Array(bytes.buffer).set([a, b])
    return hoist(`c${bytes.join(',')}`, () => m.v128.const(Array.from(bytes)))
  }
  const lane = (x: Ref, k: number): Ref => m.f64x2.extract_lane(x, k)
  const temp = (x: Ref): { set: Ref; get: () => Ref } => {
    const l = env.addLocal(v128)
    return { set: m.local.set(l, x), get: () => m.local.get(l, v128) }
  }
  const varOf = (e: Expr): number => (func.names.get(e as never) as { id: number }).id
  const scalarF64 = (v: number): Ref => {
    const { index, type } = env.scalarLocal(v)
    return type === binaryen.i32 ? m.f64.convert_s.i32(m.local.get(index, type)) : m.local.get(index, type)
  }

  /** Inside an inlined helper: its instance and the v128 locals of its parameters and declarations. */
  let helperScope: { inst: Instance; locals: Map<number, number> } | null = null

  // --- values: every number a v128 of two f64 lanes ---
  const value = (e: Expr): Ref => {
    switch (e.kind) {
      case 'Num': return constLanes(e.value, e.value)
      case 'Name': {
        const b = (helperScope ? helperScope.inst.func : func).names.get(e)!
        if (helperScope && b.kind === 'var') return m.local.get(helperScope.locals.get(b.id)!, v128)
        if (b.kind === 'builtin') return constLanes(b.value, b.value)
        if (b.kind === 'const') {
          const c = env.constantValue(b.name)
          if (c === null) throw new Error('internal: not a scalar constant')
          return constLanes(c, c)
        }
        const v = (b as { id: number }).id
        if (v === plan.counter) return m.f64x2.add(splat(m.f64.convert_s.i32(m.local.get(counterLocal, binaryen.i32))), constLanes(groupBase * plan.step, (groupBase + 1) * plan.step))
        if (unrolledValue.has(v)) return constLanes(unrolledValue.get(v)!, unrolledValue.get(v)!)
        if (laneLocal.has(v)) return m.local.get(laneLocal.get(v)!, v128)
        return invariantLanes(`v${v}`, () => scalarF64(v))
      }
      case 'Member': {
        if (e.object.name === 'Math' && e.property in mathConstants) return constLanes(mathConstants[e.property], mathConstants[e.property])
        const a = env.array(varOf(e.object))
        return invariantLanes(`len${a.len}`, () => m.f64.convert_u.i32(m.local.get(a.len, binaryen.i32)))
      }
      case 'Index': {
        const c = elementOfConstant(helperScope ? helperScope.inst.func : func, env.constants, e)
        return c !== null ? constLanes(c, c) : load(e)
      }
      case 'Unary': return e.op === '-' ? m.f64x2.neg(value(e.arg)) : value(e.arg)
      case 'Binary': {
        const l = value(e.left)
        const r = value(e.right)
        switch (e.op) {
          case '+': return m.f64x2.add(l, r)
          case '-': return m.f64x2.sub(l, r)
          case '*': return m.f64x2.mul(l, r)
          case '/': return m.f64x2.div(l, r)
        }
        throw new Error(`internal: lane ${e.op}`)
      }
      case 'Cond': {
        const p = pseudoMinMax(e)
        if (p) return p
        const t = cond(e.test)
        return m.v128.bitselect(value(e.then), value(e.else), t)
      }
      case 'Call': return call(e)
      default: throw new Error(`internal: lane ${e.kind}`)
    }
  }
  /**
   * `a < b ? b : a` and its mirrors over two plain names or numbers: exactly wasm's pseudo-min
   * and pseudo-max (`pmax(a, b)` is `a < b ? b : a`, NaN and -0 included), one instruction each
   * where a compare and a bitselect would be two or more. A clamp is two of them.
   */
  const pseudoMinMax = (e: Extract<Expr, { kind: 'Cond' }>): Ref | null => {
    const t = e.test
    if (t.kind !== 'Binary' || (t.op !== '<' && t.op !== '>')) return null
    const same = (x: Expr, y: Expr): boolean => {
      if (x.kind === 'Num' && y.kind === 'Num') return Object.is(x.value, y.value)
      if (x.kind !== 'Name' || y.kind !== 'Name') return false
      const names = (helperScope ? helperScope.inst.func : func).names
      const bx = names.get(x)
      const by = names.get(y)
      return bx !== undefined && by !== undefined && JSON.stringify(bx) === JSON.stringify(by)
    }
    const [l, r] = [t.left, t.right]
    // `l < r ? r : l` = pmax(l, r); `l < r ? l : r` = pmin(r, l); `l > r ? r : l` = pmin(l, r); `l > r ? l : r` = pmax(r, l).
    const lt = t.op === '<'
    if (same(e.then, r) && same(e.else, l)) return lt ? m.f64x2.pmax(value(l), value(r)) : m.f64x2.pmin(value(l), value(r))
    if (same(e.then, l) && same(e.else, r)) return lt ? m.f64x2.pmin(value(r), value(l)) : m.f64x2.pmax(value(r), value(l))
    return null
  }
  const call = (e: Extract<Expr, { kind: 'Call' }>): Ref => {
    if (!e.mathName) return inlineHelper(e)
    const name = e.mathName
    const args = e.args.map(value)
    switch (name) {
      case 'sqrt': return m.f64x2.sqrt(args[0])
      case 'abs': return m.f64x2.abs(args[0])
      case 'floor': return m.f64x2.floor(args[0])
      case 'ceil': return m.f64x2.ceil(args[0])
      case 'trunc': return m.f64x2.trunc(args[0])
      case 'min': return m.f64x2.min(args[0], args[1])
      case 'max': return m.f64x2.max(args[0], args[1])
    }
    // One host call per lane, arguments evaluated once.
    const temps = args.map(temp)
    const fn = env.mathImport(name, args.length)
    const perLane = (k: number): Ref => m.call(fn, temps.map((t) => lane(t.get(), k)), binaryen.f64)
    return m.block(null, [...temps.map((t) => t.set), m.f64x2.replace_lane(splat(perLane(0)), 1, perLane(1))], v128)
  }

  /** A helper call, inline: arguments into locals in order, its declarations, then its return value. */
  const inlineHelper = (e: Extract<Expr, { kind: 'Call' }>): Ref => {
    const callee = (helperScope ? helperScope.inst : inst).calls.get(e)!
    const sets: Ref[] = []
    const locals = new Map<number, number>()
    e.args.forEach((a, i) => {
      const l = env.addLocal(v128)
      sets.push(m.local.set(l, value(a)))
      locals.set(i, l)
    })
    const outer = helperScope
    helperScope = { inst: callee, locals }
    try {
      const body = callee.func.fn.body
      for (const st of body.slice(0, -1)) {
        if (st.kind !== 'Let') throw new Error('internal: lane helper')
        for (const d of st.decls) {
          const l = env.addLocal(v128)
          sets.push(m.local.set(l, value(d.init)))
          locals.set(callee.func.decls.get(d)!, l)
        }
      }
      const ret = body[body.length - 1] as Extract<Stmt, { kind: 'Return' }>
      return m.block(null, [...sets, value(ret.value!)], v128)
    } finally {
      helperScope = outer
    }
  }

  /** Per lane k, the i32 index of an access (exact: an integer the entry test proved in bounds). */
  const laneIndex = (idx: () => Ref, k: number): Ref => m.i32.trunc_s_sat.f64(lane(idx(), k))
  /**
   * Lane k's index in i32 arithmetic, when it is + - * of the counter, invariant ints, unrolled
   * counters and body locals standing for such: wrapping i32 arithmetic agrees with the exact
   * value modulo 2^32, and the exact value is a proven in-bounds index, so they are equal.
   */
  const scalarIndex = (e: Expr, k: number): Ref | null => {
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) && Math.abs(e.value) < 2 ** 31 ? m.i32.const(e.value) : null
      case 'Member': return e.property === 'length' ? m.local.get(env.array(varOf(e.object)).len, binaryen.i32) : null
      case 'Name': {
        const b = func.names.get(e)
        if (b?.kind !== 'var') return null
        const v = b.id
        if (v === plan.counter) {
          const offset = (groupBase + k) * plan.step
          return offset === 0 ? m.local.get(counterLocal, binaryen.i32) : m.i32.add(m.local.get(counterLocal, binaryen.i32), m.i32.const(offset))
        }
        if (unrolledValue.has(v)) return m.i32.const(unrolledValue.get(v)!)
        if (plan.laneVars.has(v)) {
          const init = func.vars[v].init
          return func.vars[v].assignments === 1 && init ? scalarIndex(init, k) : null
        }
        const local = env.scalarLocal(v)
        return local.type === binaryen.i32 ? m.local.get(local.index, binaryen.i32) : null
      }
      case 'Binary': {
        if (e.op !== '+' && e.op !== '-' && e.op !== '*') return null
        const l = scalarIndex(e.left, k)
        const r = l && scalarIndex(e.right, k)
        if (!l || !r) return null
        return e.op === '+' ? m.i32.add(l, r) : e.op === '-' ? m.i32.sub(l, r) : m.i32.mul(l, r)
      }
      default: return null
    }
  }
  /** The index of an access per lane: scalar arithmetic where it can be, else the lanes' values. */
  const indexer = (e: IndexExpr): { setup: Ref[]; at: (k: number) => Ref } => {
    if (scalarIndex(e.index, 0) !== null) return { setup: [], at: (k) => scalarIndex(e.index, k)! }
    const idx = temp(value(e.index))
    return { setup: [idx.set], at: (k) => laneIndex(idx.get, k) }
  }
  const addressOf = (a: { ptr: number; element: ElementTypeName }, i: Ref): Ref => {
    const shift = elementShift(a.element)
    return m.i32.add(m.local.get(a.ptr, binaryen.i32), shift === 0 ? i : m.i32.shl(i, m.i32.const(shift)))
  }
  const load = (e: IndexExpr): Ref => {
    const a = env.array(varOf(e.object))
    const idx = indexer(e)
    if (a.element === 'f64' && plan.unitStride.has(e)) return m.block(null, [...idx.setup, m.v128.load(0, 8, addressOf(a, idx.at(0)))], v128)
    if (a.element === 'u8' || a.element === 'u8c') {
      // Each byte into the lowest byte of 2^52 (whose ulp is 1) in its lane: 2^52 + byte, exactly; less 2^52, the byte.
      const bytes = m.v128.load8_lane(0, 1, 8, addressOf(a, idx.at(1)), m.v128.load8_lane(0, 1, 0, addressOf(a, idx.at(0)), constLanes(2 ** 52, 2 ** 52)))
      return m.block(null, [...idx.setup, m.f64x2.sub(bytes, constLanes(2 ** 52, 2 ** 52))], v128)
    }
    const scalar = (k: number): Ref => {
      const l = env.loadElement(a.element, addressOf(a, idx.at(k)))
      return l.type.kind === 'int' ? m.f64.convert_s.i32(l.ref) : l.ref
    }
    return m.block(null, [...idx.setup, m.f64x2.replace_lane(splat(scalar(0)), 1, scalar(1))], v128)
  }
  const store = (e: IndexExpr, v: Ref, t: Type, mask: Mask): Ref => {
    const a = env.array(varOf(e.object))
    const idx = indexer(e)
    const val = temp(v)
    // A value that may be undefined has its NaN made canonical, as a scalar store does.
    const canonical = (): Ref => (t.kind === 'maybeNum' ? m.v128.bitselect(val.get(), constLanes(NaN, NaN), m.f64x2.eq(val.get(), val.get())) : val.get())
    if (mask === null && a.element === 'f64' && plan.unitStride.has(e)) {
      return m.block(null, [...idx.setup, val.set, m.v128.store(0, 8, addressOf(a, idx.at(0)), canonical())])
    }
    if (a.element === 'u8c') {
      // ToUint8Clamp in lanes: `0 < v ? v : 0` (NaN, -0 and negatives to 0), at most 255, then
      // + 2^52, which rounds half to even to an integer held in the lowest byte of each lane.
      const known = (t.kind === 'f64' || t.kind === 'int') && t.hi !== undefined && t.hi <= 255
      const positive = m.f64x2.pmax(constLanes(0, 0), val.get())
      const capped = known ? positive : m.f64x2.pmin(positive, constLanes(255, 255))
      const bytes = temp(m.f64x2.add(capped, constLanes(2 ** 52, 2 ** 52)))
      const laneStore = (k: number): Ref => {
        const s = m.v128.store8_lane(0, 1, 8 * k, addressOf(a, idx.at(k)), bytes.get())
        return mask === null ? s : m.if(m.i64.ne(m.i64x2.extract_lane(mask(), k), m.i64.const(0n as unknown as number)), s)
      }
      return m.block(null, [...idx.setup, val.set, bytes.set, laneStore(0), laneStore(1)])
    }
    const perLane = (k: number): Ref => {
      const s = env.storeElement(a.element, addressOf(a, idx.at(k)), lane(a.element === 'f64' ? canonical() : val.get(), k), f64t)
      return mask === null ? s : m.if(m.i64.ne(m.i64x2.extract_lane(mask(), k), m.i64.const(0n as unknown as number)), s)
    }
    return m.block(null, [...idx.setup, val.set, perLane(0), perLane(1)])
  }

  // --- conditions: v128 masks, all ones where true ---
  const cond = (e: Expr): Ref => {
    if (e.kind === 'Bool') return e.value ? m.v128.not(constLanes(0, 0)) : constLanes(0, 0)
    if (e.kind === 'Logical') return e.op === '&&' ? m.v128.and(cond(e.left), cond(e.right)) : m.v128.or(cond(e.left), cond(e.right))
    if (e.kind === 'Unary' && e.op === '!') return m.v128.not(cond(e.arg))
    if (e.kind === 'Binary') {
      switch (e.op) {
        case '<': return m.f64x2.lt(value(e.left), value(e.right))
        case '<=': return m.f64x2.le(value(e.left), value(e.right))
        case '>': return m.f64x2.gt(value(e.left), value(e.right))
        case '>=': return m.f64x2.ge(value(e.left), value(e.right))
        case '===': case '==': return m.f64x2.eq(value(e.left), value(e.right))
        case '!==': case '!=': return m.f64x2.ne(value(e.left), value(e.right))
      }
    }
    // A number as a condition: neither 0 nor NaN.
    return m.f64x2.gt(m.f64x2.abs(value(e)), constLanes(0, 0))
  }

  // --- statements under a mask (null: every lane) ---
  type Mask = (() => Ref) | null
  const and = (mask: Mask, c: () => Ref): (() => Ref) => (mask === null ? c : () => m.v128.and(mask(), c()))
  /** Each inner loop's active mask, as the function statements in its body get. */
  const loopOfMask = new Map<Mask, LoopStmt>()
  const assignLane = (v: number, x: Ref, mask: Mask): Ref => {
    const l = laneLocal.get(v)!
    if (mask === null || plan.loopLocal.get(loopOfMask.get(mask)!)?.has(v)) return m.local.set(l, x)
    const t = temp(x)
    return m.block(null, [t.set, m.local.set(l, m.v128.bitselect(t.get(), m.local.get(l, v128), mask()))])
  }
  /** The local holding each inner loop's active mask, while it is emitted. */
  const active = new Map<LoopStmt, number>()

  const stmt = (s: Stmt, mask: Mask): Ref => {
    switch (s.kind) {
      case 'Let':
        // Declared in this iteration: lanes that are not active never read it.
        return m.block(null, s.decls.map((d) => m.local.set(laneLocal.get(func.decls.get(d)!)!, value(d.init))))
      case 'Block': return m.block(null, s.body.map((x) => stmt(x, mask)))
      case 'Empty': return m.nop()
      case 'ExprStmt': return effect(s.expr, mask)
      case 'If': {
        const c = temp(cond(s.test))
        const then = stmt(s.then, and(mask, c.get))
        const otherwise = s.else ? stmt(s.else, and(mask, () => m.v128.not(c.get()))) : m.nop()
        return m.block(null, [c.set, then, otherwise])
      }
      case 'Break': {
        const loopActive = active.get(func.jumps.get(s) as LoopStmt)!
        const gone = mask ?? (() => m.local.get(loopActive, v128))
        return m.local.set(loopActive, m.v128.andnot(m.local.get(loopActive, v128), gone()))
      }
      case 'For': {
        const plan = unrollPlan(s, func)
        if (plan) {
          const copies = plan.values.map((x) => {
            unrolledValue.set(plan.v, x)
            return stmt(s.body, mask)
          })
          unrolledValue.delete(plan.v)
          return m.block(null, copies)
        }
        return innerLoop(s, mask, s.init, s.test, s.update, false)
      }
      case 'While': return innerLoop(s, mask, null, s.test, null, false)
      case 'DoWhile': return innerLoop(s, mask, null, s.test, null, true)
      default: throw new Error(`internal: lane ${s.kind}`)
    }
  }
  const effect = (e: Expr, mask: Mask): Ref => {
    if (e.kind === 'Update') {
      const v = varOf(e.target)
      const l = laneLocal.get(v)!
      const step = (by: Ref): Ref => (e.op === '++' ? m.f64x2.add : m.f64x2.sub)(m.local.get(l, v128), by)
      // A counter (never -0) under a mask steps by 1 where active and by +0 elsewhere, which
      // leaves it as it is: one and, not a bitselect (an escape loop's `iter++`).
      if (mask !== null && plan.counters.has(v) && !plan.loopLocal.get(loopOfMask.get(mask)!)?.has(v)) {
        return m.local.set(l, step(m.v128.and(mask(), constLanes(1, 1))))
      }
      return assignLane(v, step(constLanes(1, 1)), mask)
    }
    if (e.kind !== 'Assign') throw new Error('internal: lane effect')
    if (e.target.kind === 'Index') return store(e.target, value(e.value), inst.types.get(e.value)!, mask)
    const v = varOf(e.target)
    const old = (): Ref => m.local.get(laneLocal.get(v)!, v128)
    const rhs = value(e.value)
    const next = e.op === '=' ? rhs : e.op === '+=' ? m.f64x2.add(old(), rhs) : e.op === '-=' ? m.f64x2.sub(old(), rhs) : e.op === '*=' ? m.f64x2.mul(old(), rhs) : m.f64x2.div(old(), rhs)
    return assignLane(v, next, mask)
  }
  /** An inner loop: runs while any lane is active; a lane leaves when its test fails or it breaks. */
  const innerLoop = (s: LoopStmt, mask: Mask, init: Stmt | null, test: Expr | null, update: Expr | null, testAfter: boolean): Ref => {
    const act = env.addLocal(v128)
    active.set(s, act)
    const n = labelCount++
    const top = `${label}_top${n}`
    const exit = `${label}_exit${n}`
    const current = (): Ref => m.local.get(act, v128)
    loopOfMask.set(current, s)
    const enter = mask ? mask() : m.v128.not(constLanes(0, 0))
    const narrow = (): Ref => (test ? m.local.set(act, m.v128.and(current(), cond(test))) : m.nop())
    const body = m.block(null, [
      m.br(exit, m.i32.eqz(m.v128.any_true(current()))),
      stmt(s.body, current),
      update ? effect(update, current) : m.nop(),
      narrow(),
      m.br(top),
    ])
    const out = m.block(exit, [
      init ? stmt(init, mask) : m.nop(),
      m.local.set(act, enter),
      testAfter ? m.nop() : narrow(),
      m.loop(top, body),
    ])
    active.delete(s)
    return out
  }

  /**
   * The inner loop of each group, fused: it runs while any lane of any group is active (a
   * group whose lanes have all left runs masked, as a lane that has left does).
   */
  const fusedLoop = (s: LoopStmt): Ref => {
    const f = s.kind === 'For' ? { init: s.init, test: s.test, update: s.update, after: false } : { init: null, test: s.test, update: null, after: s.kind === 'DoWhile' }
    const n = labelCount++
    const top = `${label}_top${n}`
    const exit = `${label}_exit${n}`
    const parts = groups.map((g) => {
      const act = env.addLocal(v128)
      const current = (): Ref => m.local.get(act, v128)
      loopOfMask.set(current, s)
      const narrow = (): Ref => (f.test ? m.local.set(act, m.v128.and(current(), inGroup(g, () => cond(f.test!)))) : m.nop())
      const enter = inGroup(g, () => m.block(null, [f.init ? stmt(f.init, null) : m.nop(), m.local.set(act, m.v128.not(constLanes(0, 0))), f.after ? m.nop() : narrow()]))
      const step = inGroup(g, () => {
        active.set(s, act)
        const out = m.block(null, [stmt(s.body, current), f.update ? effect(f.update, current) : m.nop(), narrow()])
        active.delete(s)
        return out
      })
      return { enter, step, current }
    })
    const anyActive = parts.map((p) => p.current()).reduce((a, b) => m.v128.or(a, b))
    return m.block(exit, [
      ...parts.map((p) => p.enter),
      m.loop(top, m.block(null, [m.br(exit, m.i32.eqz(m.v128.any_true(anyActive))), ...parts.map((p) => p.step), m.br(top)])),
    ])
  }
  /** One trip: each group's statements before the inner loop, the fused loop, each group's statements after it. */
  const tripBody = (): Ref => {
    if (groupCount === 1) return stmt(loop.body, null)
    const each = (list: Stmt[]): Ref[] => groups.flatMap((g) => inGroup(g, () => list.map((x) => stmt(x, null))))
    return m.block(null, [...each(body.slice(0, fusedAt)), fusedLoop(body[fusedAt] as LoopStmt), ...each(body.slice(fusedAt + 1))])
  }

  // The loop: 2 × groups iterations per trip while the last of them passes the test.
  const lanes = 2 * groupCount
  const test = loop.test as Extract<Expr, { kind: 'Binary' }>
  const allInRange = (): Ref => {
    const last = m.i64.add(m.i64.extend_s(m.local.get(counterLocal, binaryen.i32)), m.i64.const(BigInt((lanes - 1) * plan.step) as unknown as number))
    const bound = m.i64.extend_s(lowerBound())
    return test.op === '<' ? m.i64.lt_s(last, bound) : m.i64.le_s(last, bound)
  }
  const trip = m.block(null, [
    tripBody(),
    m.local.set(counterLocal, m.i32.add(m.local.get(counterLocal, binaryen.i32), m.i32.const(lanes * plan.step))),
    m.br(label, allInRange()),
  ])
  return m.block(null, [...prelude, m.if(allInRange(), m.loop(label, trip))])
}

/** Array ranges that must not overlap, tested in bytes on entry. */
export function emitDisjoint(plan: LanePlan, env: LaneEmitter): Ref | null {
  const { m } = env
  if (plan.disjoint.length === 0) return null
  const range = (v: number): { start: () => Ref; end: () => Ref } => {
    const a = env.array(v)
    const start = (): Ref => m.local.get(a.ptr, binaryen.i32)
    const end = (): Ref => m.i32.add(start(), m.i32.shl(m.local.get(a.len, binaryen.i32), m.i32.const(elementShift(a.element))))
    return { start, end }
  }
  return plan.disjoint.map(([a, b]) => {
    const x = range(a)
    const y = range(b)
    return m.i32.or(m.i32.le_u(x.end(), y.start()), m.i32.le_u(y.end(), x.start()))
  }).reduce((p, q) => m.i32.and(p, q))
}

