// Resolved functions + parameter types → one typed instance per (function, argument types):
// the type of every expression and local, which array accesses are proven in bounds, and
// which helper instance each call reaches. Locals start unknown and widen to a fixed point.

import type { Expr, IndexExpr, LoopStmt, NameRef, Stmt } from './ast.js'
import { unreachable } from './ast.js'
import { loopBounds } from './loopBounds.js'
import { speculation } from './speculate.js'
import { diagnostic, type Diagnostic, type DiagnosticCode, type Span } from './diagnostics.js'
import { mathFunctions } from './math.js'
import { arith } from './ranges.js'
import type { ResolvedFunction } from './resolve.js'
import type { ElementTypeName } from './signature.js'
import {
  bool, boundedF64, boundsOf, defined, elementValueType, f64, fullInt, I32_MIN, intRange, join, maybeNum, mayBeNegZero,
  numberish, sameType, type Type, typeKey, typeName, typeOfNumber, undef, voidType,
} from './types.js'

export type ConstValue = number | boolean | readonly number[]

export interface Instance {
  /** wasm function name. */
  id: string
  func: ResolvedFunction
  params: Type[]
  vars: Type[]
  types: Map<Expr, Type>
  inBounds: Set<IndexExpr>
  /** Loads typed as in bounds on speculation: they trap when out of bounds (see `trapOutOfBounds`). */
  speculated: Set<IndexExpr>
  /**
   * Integer +, -, *, % (and `v++`, `v += k` on int locals, and rounding) typed as int32 on
   * speculation: they trap when the JS result is not an int32 (overflow, or -0), as V8
   * deoptimizes. For +, - and *, the exact bounds of the JS value when `fusable`: known below
   * 2^62 in magnitude and never -0, so a tree of them is computed exactly in i64 and checked
   * once, at its root.
   */
  checked: Map<Expr, CheckedInfo | null>
  calls: Map<Expr, Instance>
  result: Type
  /**
   * Locals every read of which is converted by ToInt32 (bitwise operands, Math.imul): they
   * hold ToInt32 of each value assigned, in an i32, which no read can tell apart.
   */
  wrapped: Set<number>
}

const bitwiseOps = new Set(['|', '&', '^', '<<', '>>', '>>>'])

/** What a speculative integer operation's exact value is known to be (see Instance.checked). */
export interface CheckedInfo { lo: number; hi: number; fusable: boolean }

export interface ProgramInfo {
  helpers: ReadonlyMap<string, ResolvedFunction>
  constants: ReadonlyMap<string, ConstValue>
  /** Upper bound of every array length (the runtime guarantees it for the variant). */
  maxLength: number
  /**
   * Speculate that integer-element loads are in bounds (giving i32 values instead of
   * "number or NaN"); a load that is not traps, and the runtime undoes the call and reruns it
   * with a module compiled without speculation.
   */
  trapOutOfBounds: boolean
}

const MAX_PASSES = 64
/** After this many widenings an int local is given up to f64 (it keeps growing). */
const WIDEN_LIMIT = 4

export interface InferResult {
  root: Instance
  /** Every instance the root reaches, callees before callers. */
  instances: Instance[]
}

export function inferTypes(kernel: ResolvedFunction, params: Type[], program: ProgramInfo, out: Diagnostic[]): InferResult {
  const cache = new Map<string, Instance>()
  const seen = new Set<string>()
  const report = (d: Diagnostic): void => {
    const k = `${d.code}@${d.span?.file}:${d.span?.start}`
    if (!seen.has(k)) {
      seen.add(k)
      out.push(d)
    }
  }
  let counter = 0
  const instanceFor = (func: ResolvedFunction, args: Type[], isRoot: boolean): Instance => {
    const key = `${func.name}(${args.map(typeKey).join(',')})`
    const hit = cache.get(key)
    if (hit) return hit
    const id = isRoot ? 'kernel' : `${func.name}#${counter++}`
    const inst = inferInstance(id, func, args, program, report, (name, a) => instanceFor(program.helpers.get(name)!, a, false))
    cache.set(key, inst)
    return inst
  }
  const root = instanceFor(kernel, params, true)
  const ordered: Instance[] = []
  const visited = new Set<Instance>()
  const visit = (i: Instance): void => {
    if (visited.has(i)) return
    visited.add(i)
    for (const c of i.calls.values()) visit(c)
    ordered.push(i)
  }
  visit(root)
  return { root, instances: ordered }
}

interface PassState {
  types: Map<Expr, Type>
  inBounds: Set<IndexExpr>
  speculated: Set<IndexExpr>
  checked: Map<Expr, CheckedInfo | null>
  calls: Map<Expr, Instance>
  returns: { type: Type; span: Span }[]
  changed: boolean
  /** (index var, array var) pairs known to satisfy index < array.length here. */
  facts: { index: number; array: number }[]
  /** Narrower ranges of int locals inside loop bodies whose test bounds them. */
  narrow: Map<number, Type>
  loops: LoopStmt[]
  /** Expressions whose value is converted by ToInt32 (or ToUint32) where it is used. */
  int32Uses: Set<Expr>
  /** Locals read somewhere that is not an int32 use. */
  otherReads: Set<number>
  /** Operands of +, -, * whose result is converted by ToInt32 (not int32 uses themselves). */
  wrappedOperands: Set<Expr>
}

function inferInstance(
  id: string,
  func: ResolvedFunction,
  params: Type[],
  program: ProgramInfo,
  report: (d: Diagnostic) => void,
  callInstance: (name: string, args: Type[]) => Instance,
): Instance {
  const vars: (Type | null)[] = func.vars.map((v, i) => (v.isParam ? params[i] : null))
  const widenings = func.vars.map(() => 0)
  const wrapped = new Set<number>()
  let s: PassState = newPass()

  function newPass(): PassState {
    return { types: new Map(), inBounds: new Set(), speculated: new Set(), checked: new Map(), calls: new Map(), returns: [], changed: false, facts: [], narrow: new Map(), loops: [], int32Uses: new Set(), otherReads: new Set(), wrappedOperands: new Set() }
  }
  const fail = (code: DiagnosticCode, message: string, span: Span, notes: string[] = []): void => report(diagnostic(code, message, span, notes))

  const varOf = (ref: NameRef): number | null => {
    const b = func.names.get(ref)
    return b?.kind === 'var' ? b.id : null
  }

  const assign = (v: number, t: Type, span: Span): void => {
    if (wrapped.has(v) && numberish(t)) return
    const cur = vars[v]
    const name = func.vars[v].name
    if (cur?.kind === 'array') {
      fail('KILN_ARRAY_ASSIGN', `cannot assign to \`${name}\`: it holds an array, and array bindings are fixed`, span, ['write into its elements, or use another local'])
      return
    }
    if (t.kind === 'array') {
      fail('KILN_ARRAY_VALUE', `cannot store an array in local \`${name}\``, span, ['index the array parameter directly'])
      return
    }
    if (t.kind === 'void') {
      fail('KILN_RETURN_TYPE', `cannot assign a call that returns nothing to \`${name}\``, span)
      return
    }
    let j = join(cur, t)
    if (j === null) {
      fail('KILN_TYPE_MIX', `\`${name}\` holds both a ${typeName(cur!)} and a ${typeName(t)}`, span, ['give booleans and numbers separate locals (JS would change the value\'s type here)'])
      return
    }
    if (!sameType(j, cur)) {
      // A range that keeps growing is given up: to f64, or in a speculative module, for an int,
      // to all of int32 (every value assigned so far is one; an operation that may leave int32
      // is then a checked one, see speculateInt).
      if ((j.kind === 'int' || boundsOf(j)) && ++widenings[v] > WIDEN_LIMIT) j = j.kind === 'int' && program.trapOutOfBounds ? fullInt : f64
      vars[v] = j
      s.changed = true
    }
  }

  /** A value used as a number or boolean operand: arrays and `void` are errors. */
  const value = (e: Expr): Type => {
    const t = expr(e)
    if (t.kind === 'array') {
      fail('KILN_ARRAY_VALUE', 'an array cannot be used as a number or boolean here', e.span, ['index it (`a[i]`) or read `a.length`'])
      return f64
    }
    if (t.kind === 'void') {
      fail('KILN_RETURN_TYPE', 'this call returns nothing, so it has no value', e.span)
      return f64
    }
    return t
  }

  /** A numeric operand: booleans count as 0/1 and undefined as NaN (ToNumber). */
  const numeric = (e: Expr): Type => {
    const t = value(e)
    if (t.kind === 'bool') return { kind: 'int', lo: 0, hi: 1 }
    return t.kind === 'maybeNum' || t.kind === 'maybeBool' || t.kind === 'undef' ? f64 : t
  }

  const arrayOf = (ref: NameRef): { kind: 'array'; element: ElementTypeName; var: number } | { kind: 'const'; values: readonly number[] } | null => {
    const b = func.names.get(ref)
    if (b?.kind === 'var') {
      const t = vars[b.id]
      if (t?.kind === 'array') return { kind: 'array', element: t.element, var: b.id }
      return null
    }
    if (b?.kind === 'const') {
      const c = program.constants.get(b.name)
      if (Array.isArray(c)) return { kind: 'const', values: c }
    }
    return null
  }

  const constArrayType = (values: readonly number[]): Type => {
    let t: Type | null = null
    for (const v of values) t = join(t, typeOfNumber(v))
    return t ?? f64
  }

  const index = (e: IndexExpr): Type => {
    const arr = arrayOf(e.object)
    const it = value(e.index)
    if (!arr) {
      expr(e.object)
      fail('KILN_NOT_INDEXABLE', `\`${e.object.name}\` is not an array`, e.object.span, ['only typed-array arguments and module-scope `const` arrays of numbers can be indexed'])
      return f64
    }
    if (it.kind === 'bool' || it.kind === 'maybeBool') fail('KILN_TYPE_MIX', 'an array index must be a number, not a boolean', e.index.span)
    let inBounds = false
    let elementType: Type
    if (arr.kind === 'const') {
      inBounds = it.kind === 'int' && it.lo >= 0 && it.hi < arr.values.length
      elementType = constArrayType(arr.values)
    } else {
      const iv = e.index.kind === 'Name' ? varOf(e.index) : null
      inBounds = iv !== null && it.kind === 'int' && it.lo >= 0 && s.facts.some((f) => f.index === iv && f.array === arr.var)
      elementType = elementValueType(arr.element)
    }
    if (inBounds) s.inBounds.add(e)
    else if (program.trapOutOfBounds && elementType.kind === 'int') {
      s.speculated.add(e)
      return elementType
    }
    // Out of bounds, JS reads undefined.
    return inBounds ? elementType : maybeNum
  }


  const { stepType, scaleType, narrowForBody, restoreNarrow, loopFacts, lengthOf } = loopBounds({
    func, vars, varOf, fail,
    state: () => s,
    arrayVar: (ref: NameRef) => {
      const a = arrayOf(ref)
      return a?.kind === 'array' ? a.var : null
    },
  })

  const mathCall = (e: Extract<Expr, { kind: 'Call' }>, name: string): Type => {
    const info = mathFunctions.get(name)!
    if (name === 'imul' || name === 'clz32') for (const a of e.args) s.int32Uses.add(a)
    const args = e.args.map(numeric)
    if (info.arity >= 0 && args.length !== info.arity) {
      fail('KILN_ARITY', `Math.${name} takes ${info.arity} argument${info.arity === 1 ? '' : 's'}, not ${args.length}`, e.span)
      return f64
    }
    const a = args[0]
    switch (name) {
      case 'abs':
        if (a.kind === 'int' && a.lo > I32_MIN) return a.lo >= 0 ? a : a.hi <= 0 ? intRange(-a.hi, -a.lo) : intRange(0, Math.max(-a.lo, a.hi))
        return f64
      case 'ceil': case 'floor': case 'trunc': case 'round': {
        if (a.kind === 'int') return a
        // A bounded number (never NaN) rounds to an integer in the rounded bounds; it is an int
        // when those fit int32 and the result cannot be -0: floor gives -0 only for -0, the
        // others also for small negatives, so those need a non-negative operand.
        const b = boundsOf(a)
        const lo = b ? Math.floor(b.lo) : -Infinity
        const hi = b ? Math.ceil(b.hi) : Infinity
        const negZero = !b || mayBeNegZero(a) || (name !== 'floor' && b.lo < 0)
        const t = negZero ? boundedF64(lo, hi) : intRange(lo, hi)
        if (t.kind === 'int' || !program.trapOutOfBounds) return t
        // Speculative: an int32 that traps where the result is not one (NaN, out of range, -0).
        const speculated = intRange(Math.max(lo, I32_MIN), Math.min(hi, 2147483647))
        if (speculated.kind !== 'int') return t // never an int32: it would always trap
        s.checked.set(e, null)
        return speculated
      }
      case 'sign':
        return a.kind === 'int' ? intRange(a.lo < 0 ? -1 : a.lo > 0 ? 1 : 0, a.hi > 0 ? 1 : a.hi < 0 ? -1 : 0) : f64
      case 'imul': return fullInt
      case 'clz32': return intRange(0, 32)
      case 'min': case 'max': {
        if (args.length === 0 || !args.every((t) => t.kind === 'int')) return f64
        const ranges = args as { kind: 'int'; lo: number; hi: number }[]
        const pick = name === 'min' ? Math.min : Math.max
        return intRange(pick(...ranges.map((r) => r.lo)), pick(...ranges.map((r) => r.hi)))
      }
      default:
        return f64
    }
  }

  const expr = (e: Expr): Type => {
    const t = exprUncached(e)
    s.types.set(e, t)
    return t
  }

  const exprUncached = (e: Expr): Type => {
    switch (e.kind) {
      case 'Num':
        return typeOfNumber(e.value)
      case 'Bool':
        return bool
      case 'Name': {
        const b = func.names.get(e)
        if (!b) return f64 // already reported by resolve
        switch (b.kind) {
          case 'var':
            if (!s.int32Uses.has(e)) s.otherReads.add(b.id)
            return s.narrow.get(b.id) ?? vars[b.id] ?? f64
          case 'builtin': return f64
          case 'undefined': return undef
          case 'const': {
            const c = program.constants.get(b.name)!
            if (typeof c === 'boolean') return bool
            if (typeof c === 'number') return typeOfNumber(c)
            fail('KILN_ARRAY_VALUE', `constant array \`${e.name}\` can only be indexed or have its length read`, e.span)
            return f64
          }
          case 'helper': case 'math':
            return f64
        }
        return unreachable(b)
      }
      case 'Member': {
        if (e.object.name === 'Math' && func.names.get(e.object)?.kind === 'math') return f64
        const arr = arrayOf(e.object)
        if (!arr) {
          if (func.names.has(e.object)) {
            fail('KILN_PROPERTY', `\`${e.object.name}\` is not an array, so it has no \`length\``, e.span)
          }
          return f64
        }
        return arr.kind === 'const' ? typeOfNumber(arr.values.length) : intRange(0, program.maxLength)
      }
      case 'Index':
        return index(e)
      case 'Call': {
        if (e.mathName !== null) return mathCall(e, e.mathName)
        const b = func.names.get(e.callee)
        if (b?.kind !== 'helper') {
          for (const a of e.args) expr(a)
          return f64
        }
        const helper = program.helpers.get(b.name)!
        const declared = helper.fn.params.length
        // Arguments past the declared parameters are evaluated and ignored, as in JS.
        for (const extra of e.args.slice(declared)) expr(extra)
        const args = e.args.slice(0, declared).map((a) => {
          const t = expr(a)
          if (t.kind === 'void') {
            fail('KILN_RETURN_TYPE', 'this call returns nothing, so it has no value', a.span)
            return f64
          }
          if (t.kind === 'array' && !arrayOf(a as NameRef)) return f64
          if (a.kind === 'Name' && arrayOf(a)?.kind === 'const') {
            fail('KILN_ARRAY_VALUE', `constant array \`${a.name}\` cannot be passed to a helper`, a.span, ['the helper can read the constant itself'])
            return f64
          }
          return t
        })
        // Parameters without an argument are undefined, as in JS.
        while (args.length < declared) args.push(undef)
        const inst = callInstance(b.name, args)
        s.calls.set(e, inst)
        return inst.result
      }
      case 'Unary': {
        if (e.op === '!') {
          value(e.arg)
          return bool
        }
        if (e.op === 'void') {
          expr(e.arg)
          return undef
        }
        if (e.op === '~') s.int32Uses.add(e.arg)
        const a = numeric(e.arg)
        if (e.op === '+') return a
        if (e.op === '~') return a.kind === 'int' ? intRange(~a.hi, ~a.lo) : fullInt
        return a.kind === 'int' && a.lo > 0 ? intRange(-a.hi, -a.lo) : f64
      }
      case 'Binary': {
        switch (e.op) {
          case '<': case '<=': case '>': case '>=': case '==': case '!=': case '===': case '!==':
            value(e.left)
            value(e.right)
            return bool
          default: {
            if (bitwiseOps.has(e.op)) s.int32Uses.add(e.left).add(e.right)
            // Operands of a sum, difference or product under ToInt32 are wrapped with it (see
            // the lowering's wrapsExactly): no speculation there.
            if ((s.int32Uses.has(e) || s.wrappedOperands.has(e)) && (e.op === '+' || e.op === '-' || e.op === '*')) s.wrappedOperands.add(e.left).add(e.right)
            const lt = numeric(e.left)
            const rt = numeric(e.right)
            const t = arith(e.op, lt, rt)
            const sum = t.kind === 'f64' && (e.op === '+' || e.op === '-') ? sumWithProduct(e, lt, rt) : null
            return sum ?? (t.kind === 'f64' ? speculateInt(e, e.op, lt, rt) : null) ?? t
          }
        }
      }
      case 'Logical': {
        const l = value(e.left)
        const r = value(e.right)
        if (e.op === '??') {
          // The left value unless it is undefined (null is not a kernel value).
          const kept = defined(l)
          const j = kept === null ? r : l.kind === 'maybeNum' || l.kind === 'maybeBool' ? join(kept, r) : l
          if (j === null) {
            fail('KILN_TYPE_MIX', `\`??\` mixes a ${typeName(l)} and a ${typeName(r)}; in JS its value would be either one`, e.span)
            return l
          }
          return j
        }
        const j = join(l, r)
        if (j === null) {
          fail('KILN_TYPE_MIX', `\`${e.op}\` mixes a ${typeName(l)} and a ${typeName(r)}; in JS its value would be either one`, e.span, ['compare explicitly, for example `(a !== 0) && b`'])
          return l
        }
        return j
      }
      case 'Cond': {
        value(e.test)
        const a = value(e.then)
        const b = value(e.else)
        const j = join(a, b)
        if (j === null) {
          fail('KILN_TYPE_MIX', `the branches of \`?:\` give a ${typeName(a)} and a ${typeName(b)}`, e.span)
          return a
        }
        return j
      }
      case 'Assign': {
        if (e.target.kind === 'Name') {
          const v = varOf(e.target)
          if (e.op === '=') {
            const t = expr(e.value)
            if (v === null) return t.kind === 'array' || t.kind === 'void' ? f64 : t
            const step = incrementOf(e.value, v)
            const stepped = step ? stepType(v, step.step, step.dir, e.span) : t
            // `v = v + K` bounded by the loop's test, as `v += K` is: the sum itself is then an int of that range.
            if (step && stepped.kind === 'int') s.types.set(e.value, stepped)
            assign(v, stepped, e.span)
            // The expression's value is the value assigned; a wrapped local keeps only ToInt32 of it.
            return wrapped.has(v) && numberish(t) ? t : vars[v] ?? f64
          }
          const op = e.op.slice(0, -1)
          if (bitwiseOps.has(op)) s.int32Uses.add(e.target)
          const cur = v === null ? f64 : expr(e.target)
          const rhs = numeric(e.value)
          if (v === null) return f64
          if (cur.kind === 'array') {
            fail('KILN_ARRAY_ASSIGN', `cannot assign to \`${e.target.name}\`: it holds an array`, e.span)
            return f64
          }
          const normal = (): Type => arith(op, cur.kind === 'bool' ? { kind: 'int', lo: 0, hi: 1 } : cur, rhs)
          const shift = op === '<<' && rhs.kind === 'int' && rhs.lo === rhs.hi && rhs.lo >= 0 && rhs.lo <= 30 ? rhs.lo : null
          const t = (op === '+' || op === '-') && rhs.kind === 'int' && rhs.lo >= 0
            ? stepType(v, rhs, op === '+' ? 1 : -1, e.span)
            : op === '*' ? scaleType(v, rhs, normal())
              : shift !== null ? scaleType(v, intRange(2 ** shift, 2 ** shift), normal())
                : normal()
          const base = cur.kind === 'bool' ? { kind: 'int' as const, lo: 0, hi: 1 } : cur
          assign(v, t.kind === 'f64' && !wrapped.has(v) ? speculateInt(e, op, base, rhs) ?? t : t, e.span)
          return wrapped.has(v) && numberish(t) ? t : vars[v] ?? f64
        }
        return indexAssign(e.target, e.op, e.value, e.span)
      }
      case 'Update': {
        if (e.target.kind === 'Name') {
          const v = varOf(e.target)
          expr(e.target)
          if (v === null) return f64
          const one: Type = { kind: 'int', lo: 1, hi: 1 }
          const stepped = stepType(v, one, e.op === '++' ? 1 : -1, e.span)
          assign(v, stepped.kind === 'f64' && !wrapped.has(v) ? speculateInt(e, e.op === '++' ? '+' : '-', vars[v] ?? f64, one) ?? stepped : stepped, e.span)
          // Its value is a number (the old one as a number, or the new one), never undefined.
          const after = vars[v] ?? f64
          return after.kind === 'maybeNum' ? f64 : after
        }
        const next = indexAssign(e.target, e.op === '++' ? '+=' : '-=', null, e.span)
        if (e.prefix) return next
        // `a[i]++` is the old element as a number (0 when the new one is 1): both ranges.
        const old = s.types.get(e.target)!
        return join(old.kind === 'int' ? old : f64, next) ?? f64
      }
      case 'Seq': {
        let t: Type = voidType
        for (const x of e.exprs) t = expr(x)
        return t
      }
      default:
        return unreachable(e)
    }
  }

  const { speculateInt, sumWithProduct } = speculation({ trap: program.trapOutOfBounds, state: () => s, lengthOf })

  /** `v + K` / `v - K` with K a positive int: the step, for loop-bounded increments. */
  const incrementOf = (e: Expr, v: number): { step: Type; dir: 1 | -1 } | null => {
    if (e.kind !== 'Binary' || (e.op !== '+' && e.op !== '-')) return null
    if (e.left.kind !== 'Name' || varOf(e.left) !== v) return null
    const step = s.types.get(e.right)
    if (!step || step.kind !== 'int' || step.lo < 0) return null
    return { step, dir: e.op === '+' ? 1 : -1 }
  }

  /** `a[i] = x`, `a[i] op= x`, `a[i]++`: the expression's value type. */
  const indexAssign = (target: IndexExpr, op: string, valueExpr: Expr | null, span: Span): Type => {
    const arr = arrayOf(target.object)
    if (arr?.kind === 'const') {
      fail('KILN_CONST_WRITE', `cannot write into constant array \`${target.object.name}\``, span, ['constant arrays are folded into the kernel; pass a typed array to write into'])
    }
    if (op === '=') {
      const it = value(target.index)
      if (it.kind === 'bool' || it.kind === 'maybeBool') fail('KILN_TYPE_MIX', 'an array index must be a number, not a boolean', target.index.span)
      if (!arr) {
        expr(target.object)
        fail('KILN_NOT_INDEXABLE', `\`${target.object.name}\` is not an array`, target.object.span)
      } else if (arr.kind === 'array') {
        const iv = target.index.kind === 'Name' ? varOf(target.index) : null
        if (iv !== null && it.kind === 'int' && it.lo >= 0 && s.facts.some((f) => f.index === iv && f.array === arr.var)) s.inBounds.add(target)
      }
      return value(valueExpr!)
    }
    const old = index(target)
    s.types.set(target, old)
    const rhs = valueExpr ? numeric(valueExpr) : { kind: 'int' as const, lo: 1, hi: 1 }
    return arith(op.slice(0, -1), old, rhs)
  }

  const stmt = (st: Stmt): void => {
    switch (st.kind) {
      case 'Let':
        for (const d of st.decls) {
          const v = func.decls.get(d)
          const t = expr(d.init)
          if (v !== undefined) assign(v, t, d.span)
        }
        return
      case 'If':
        value(st.test)
        stmt(st.then)
        if (st.else) stmt(st.else)
        return
      case 'For': {
        if (st.init) stmt(st.init)
        s.loops.push(st)
        if (st.test) value(st.test)
        const facts = loopFacts(st)
        s.facts.push(...facts)
        const saved = narrowForBody(st)
        stmt(st.body)
        restoreNarrow(saved)
        s.facts.length -= facts.length
        if (st.update) expr(st.update)
        s.loops.pop()
        return
      }
      case 'While':
        s.loops.push(st)
        value(st.test)
        {
          const saved = narrowForBody(st)
          stmt(st.body)
          restoreNarrow(saved)
        }
        s.loops.pop()
        return
      case 'DoWhile':
        s.loops.push(st)
        stmt(st.body)
        value(st.test)
        s.loops.pop()
        return
      case 'Return':
        s.returns.push({ type: st.value ? value(st.value) : voidType, span: st.span })
        return
      case 'Block':
        for (const x of st.body) stmt(x)
        return
      case 'ExprStmt':
        expr(st.expr)
        return
      case 'Break': case 'Continue': case 'Empty':
        return
      default:
        unreachable(st)
    }
  }

  for (let pass = 0; ; pass++) {
    s = newPass()
    for (const st of func.fn.body) stmt(st)
    if (!s.changed) {
      // Number locals only ever used as ToInt32 operands can live in i32 (then infer again).
      for (let v = 0; v < vars.length; v++) {
        if ((vars[v]?.kind === 'f64' || vars[v]?.kind === 'maybeNum') && !func.vars[v].isParam && !s.otherReads.has(v) && !wrapped.has(v)) {
          wrapped.add(v)
          vars[v] = fullInt
          s.changed = true
        }
      }
      if (!s.changed) break
    }
    if (pass >= MAX_PASSES) throw new Error(`internal: type inference of ${func.name} did not converge`)
  }

  // A `return;` and falling off the end give undefined, as in JS; that joins the values returned elsewhere.
  let result: Type | null = null
  const withValue = s.returns.filter((r) => r.type.kind !== 'void')
  if (withValue.length > 0) {
    const end = func.fn.span.end
    const undefinedAt = [
      ...s.returns.filter((r) => r.type.kind === 'void').map((r) => r.span),
      ...(canComplete(func.fn.body, func) ? [{ file: func.fn.span.file, start: end - 1, end }] : []),
    ]
    const all = [...withValue, ...undefinedAt.map((span) => ({ type: undef, span }))]
    for (const r of all) {
      const j = join(result, r.type)
      if (j === null) {
        const what = (t: Type): string => (t.kind === 'undef' ? 'undefined (a path without a value)' : `a ${typeName(t)}`)
        fail('KILN_TYPE_MIX', `\`${func.name || 'kernel'}\` returns both ${what(result!)} and ${what(r.type)}`, r.span, r.type.kind === 'undef' ? ['return a value on every path'] : [])
        break
      }
      result = j
    }
  }
  return {
    id, func, params,
    vars: vars.map((t) => t ?? f64),
    types: s.types, inBounds: s.inBounds, speculated: s.speculated, checked: s.checked, calls: s.calls,
    result: result ?? voidType,
    wrapped,
  }
}

function isConstantTrue(e: Expr | null): boolean {
  return e === null || (e.kind === 'Bool' && e.value) || (e.kind === 'Num' && e.value !== 0 && !Number.isNaN(e.value))
}

/** Whether control can fall off the end of a statement list. */
export function canComplete(body: readonly Stmt[], func: ResolvedFunction): boolean {
  for (const st of body) if (!stmtCanComplete(st, func)) return false
  return true
}

function stmtCanComplete(st: Stmt, func: ResolvedFunction): boolean {
  switch (st.kind) {
    case 'Return': case 'Break': case 'Continue': return false
    case 'If': return stmtCanComplete(st.then, func) || (st.else ? stmtCanComplete(st.else, func) : true)
    case 'Block': return canComplete(st.body, func) || func.breakTargets.has(st)
    case 'For': case 'While': case 'DoWhile':
      return !isConstantTrue(st.test) || func.breakTargets.has(st)
    case 'Let': case 'ExprStmt': case 'Empty': return true
    default: return unreachable(st)
  }
}

