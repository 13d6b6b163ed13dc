// One typed instance → one binaryen function. Every JS operation is lowered to wasm that
// gives exactly the JS result: ToInt32 for bitwise operands, element conversions on stores
// (clamp for u8c, wrap for ints, round for f32), undefined for out-of-bounds reads.

import binaryen from 'binaryen'
import type { BreakTarget, Expr, IndexExpr, NameRef, Stmt } from './ast.js'
import { unreachable } from './ast.js'
import { UNDEF_BOOL, valueOps } from './values.js'
import type { Instance } from './infer.js'
import { mathConstants, mathFunctions } from './math.js'
import { constantExponent, inlinePower } from './power.js'
import { inlineHypot } from './hypot.js'
import { unrollPlan } from './unroll.js'
import { emitGuard, versionPlan } from './bounds.js'
import { emitDisjoint, emitLanes, lanePlan, type LaneEmitter } from './vectorize.js'
import { elementShift, type ElementTypeName } from './signature.js'
import { boundsOf, f64, fullInt, mayBeUndefined, rangeOf, type Type } from './types.js'

type Ref = binaryen.ExpressionRef

/** What the module assembler provides to each function. */
export interface ModuleContext {
  m: binaryen.Module
  /** Requests a module-level runtime helper (`toInt32`, `fmod`, `round`); returns its name. */
  helper(name: 'toInt32' | 'fmod' | 'round'): string
  /** Requests a host Math import with `arity` f64 parameters; returns its internal name. */
  mathImport(name: string, arity: number): string
  /** Byte offset of a constant array inside the constant region. */
  constArray(name: string): { offset: number; length: number }
  /** Name of the global that holds the constant region's base address. */
  constBase: string
  constants: ReadonlyMap<string, number | boolean | readonly number[]>
  /** Records that an instance reads or writes its array parameter `varId`. */
  noteAccess(inst: Instance, varId: number, kind: 'read' | 'write'): void
  /** Whether an (already lowered) instance reads or writes its array parameter `param`. */
  touches(inst: Instance, param: number, kind: 'read' | 'write'): boolean
  /**
   * The globals that hold kernel parameter `origin`'s property named "undefined" (what
   * `a[undefined]` reads and writes on a typed array): a state (0 absent, 1 a number in
   * `value`, 2 the value undefined) and the number. Requesting them exports them.
   */
  undefinedKey(origin: number): { state: string; value: string }
  /** Whether loops may be vectorized (simd128). */
  simd: boolean
  /** Records that the module uses simd128. */
  noteSimd(): void
}

/** wasm type of a value type. */
export function wasmType(t: Type): binaryen.Type {
  switch (t.kind) {
    case 'f64': case 'maybeNum': case 'undef': return binaryen.f64
    case 'int': case 'bool': case 'maybeBool': return binaryen.i32
    case 'void': return binaryen.none
    case 'array': throw new Error('internal: arrays have no single wasm type')
  }
}

/** wasm parameter types of a value type (arrays are a pointer and a length). */
export function wasmParams(t: Type): binaryen.Type[] {
  return t.kind === 'array' ? [binaryen.i32, binaryen.i32] : [wasmType(t)]
}


interface ArrayRef { element: ElementTypeName; ptr: number; len: number; varId: number }

/** The pieces of an element access (see `access`). */
interface Access {
  setup: Ref[]
  /** Null when the index is proven in bounds. */
  valid: (() => Ref) | null
  addr: () => Ref
  element: ElementTypeName | null
  constOffset: number
  /** When the index may be undefined: the test for it and the globals of the array's property "undefined". */
  undefinedKey: { test: () => Ref; globals: { state: string; value: string } } | null
}

/**
 * Lowers one instance. `abi` gives the wasm parameter types per source parameter; the kernel
 * export takes f32 where the signature says f32, which this converts on entry.
 */
export function lowerFunction(ctx: ModuleContext, inst: Instance, abi: binaryen.Type[][]): void {
  const m = ctx.m
  const paramTypes = abi.flat()
  const localTypes: binaryen.Type[] = []
  const addLocal = (t: binaryen.Type): number => {
    localTypes.push(t)
    return paramTypes.length + localTypes.length - 1
  }
  const varLocals: number[][] = inst.vars.map((t) => wasmParams(t).map(addLocal))
  const labels = new Map<BreakTarget, { brk: string; cont: string; top: string }>()
  let labelCounter = 0
  /** Accesses proven in bounds by the entry test of the loop copy being lowered (bounds.ts). */
  const unchecked = new Set<IndexExpr>()
  /** Counters of the unrolled loop copies being lowered, and their values in them. */
  const unrolledValue = new Map<number, number>()
  const { tempSet, undefinedF64, isUndefinedF64, canonicalNaN, undefinedOf, coerce, toI32Ref, truthyRef, loadElement, storeElement, checkedInt, fitsInt32, checkedRounding, roundF64 } = valueOps(m, addLocal, (name) => ctx.helper(name))

  // Parameter entry: copy each wasm parameter into its var's locals, converting as needed.
  const entry: Ref[] = []
  let p = 0
  inst.func.fn.params.forEach((_, i) => {
    const t = inst.vars[i]
    const wasm = abi[i]
    if (t.kind === 'array') {
      entry.push(m.local.set(varLocals[i][0], m.local.get(p, binaryen.i32)), m.local.set(varLocals[i][1], m.local.get(p + 1, binaryen.i32)))
    } else {
      let v = m.local.get(p, wasm[0])
      const from = inst.params[i]
      if (wasm[0] === binaryen.f32) v = m.f64.promote(v)
      // A number the caller guarantees to be a small integer (an assumed range) enters as an f64 or f32.
      if (wasm[0] !== binaryen.i32 && from.kind === 'int') v = m.i32.trunc_s_sat.f64(v)
      entry.push(m.local.set(varLocals[i][0], coerce(v, from, t)))
    }
    p += wasm.length
  })

  function typeOf(e: Expr): Type {
    const t = inst.types.get(e)
    if (!t) throw new Error(`internal: untyped expression at ${e.span.start}`)
    return t
  }

  function varOf(ref: NameRef): number {
    const b = inst.func.names.get(ref)
    if (b?.kind !== 'var') throw new Error(`internal: ${ref.name} is not a local`)
    return b.id
  }

  const lowerTo = (e: Expr, to: Type): Ref => coerce(lower(e), typeOf(e), to)
  /**
   * A value as a number, for the operations that keep a NaN's bits (unary + and -, abs, sign):
   * undefined becomes the canonical NaN there, so its pattern cannot leave as a plain number.
   */
  const bitwiseF64 = (e: Expr): Ref => {
    const t = typeOf(e)
    return t.kind === 'maybeNum' || t.kind === 'undef' ? canonicalNaN(lower(e)) : lowerTo(e, f64)
  }
  /** The value stored into local `v`: ToInt32 of it for a wrapped local. */
  const assignedValue = (e: Expr, v: number): Ref => (inst.wrapped.has(v) ? toI32(e) : lowerTo(e, inst.vars[v]))
  const toF64 = (e: Expr): Ref => lowerTo(e, f64)

  /** ToInt32 of any value: wrapping i32 arithmetic where that is exact (see `wrapsExactly`). */
  const toI32 = (e: Expr): Ref => (wrapsExactly(e) ? wrapping(e) : intQuotient(e) ?? toI32Ref(lower(e), typeOf(e)))

  /**
   * ToInt32 of `a / b` for int32 a and b, as i32.div_s: the f64 quotient of two int32 never
   * rounds across an integer (its error is below 1/|b|), so its truncation is the integer
   * quotient. Where b may be 0 (±Infinity or NaN: 0) or -1 (ToInt32(-a) wraps, div_s would
   * trap on INT_MIN) those are selected apart. Null for anything else.
   */
  function intQuotient(e: Expr): Ref | null {
    if (e.kind !== 'Binary' || e.op !== '/' || typeOf(e.left).kind !== 'int') return null
    const rt = typeOf(e.right)
    if (rt.kind !== 'int') return null
    const l = tempSet(lower(e.left), binaryen.i32)
    const r = tempSet(lower(e.right), binaryen.i32)
    const quotient = m.i32.div_s(l.get(), r.get())
    const safe = rt.lo >= 1 || rt.hi <= -2
    return m.block(null, [l.set, r.set, safe ? quotient
      : m.if(m.i32.eqz(r.get()), m.i32.const(0), m.if(m.i32.eq(r.get(), m.i32.const(-1)), m.i32.sub(m.i32.const(0), l.get()), quotient))], binaryen.i32)
  }

  /**
   * Whether ToInt32 of `e` is wrapping i32 arithmetic on ToInt32 of its operands: `e` is an int
   * (or boolean), or a +, - or * of such operands whose exact value stays within ±2^53 (its
   * bounds say so). Then the f64 result is exact, and ToInt32 of an exact integer sum, difference
   * or product is that operation modulo 2^32; -0 becomes 0 either way. `(a + 0x6d2b79f5) | 0`.
   */
  function wrapsExactly(e: Expr): boolean {
    const t = typeOf(e)
    if (t.kind === 'int' || t.kind === 'bool' || integerConstant(e) !== null) return true
    if (e.kind !== 'Binary' || (e.op !== '+' && e.op !== '-' && e.op !== '*')) return false
    const b = boundsOf(t)
    return b !== null && b.lo > -(2 ** 53) && b.hi < 2 ** 53 && wrapsExactly(e.left) && wrapsExactly(e.right)
  }

  /** The value of a literal or module constant that is an integer below 2^53 in magnitude (outside int32: `0xe6546b64`), else null. */
  function integerConstant(e: Expr): number | null {
    let v: unknown = null
    const b = e.kind === 'Name' ? inst.func.names.get(e) : undefined
    if (e.kind === 'Num') v = e.value
    else if (b?.kind === 'const') v = ctx.constants.get(b.name)
    return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 53 ? v : null
  }

  /** ToInt32 of an expression `wrapsExactly` accepts, operands evaluated in order. */
  function wrapping(e: Expr): Ref {
    const t = typeOf(e)
    if (t.kind === 'int' || t.kind === 'bool') return lower(e)
    const c = integerConstant(e)
    if (c !== null) return m.i32.const(c | 0)
    if (e.kind !== 'Binary') throw new Error('internal: not a wrapping expression')
    const l = wrapping(e.left)
    const r = wrapping(e.right)
    return e.op === '+' ? m.i32.add(l, r) : e.op === '-' ? m.i32.sub(l, r) : m.i32.mul(l, r)
  }

  const truthy = (e: Expr): Ref => truthyRef(lower(e), typeOf(e))

  function arrayOf(ref: NameRef): ArrayRef {
    const v = varOf(ref)
    const t = inst.vars[v]
    if (t.kind !== 'array') throw new Error('internal: not an array')
    return { element: t.element, ptr: varLocals[v][0], len: varLocals[v][1], varId: v }
  }

  function constArrayOf(ref: NameRef): { offset: number; length: number } | null {
    const b = inst.func.names.get(ref)
    return b?.kind === 'const' ? ctx.constArray(b.name) : null
  }

  /**
   * Evaluates the index of `target` into temps and gives the pieces of an element access:
   * `valid` is null when the index is proven in bounds.
   */
  function access(target: IndexExpr): Access {
    const it = typeOf(target.index)
    const constArr = constArrayOf(target.object)
    const setup: Ref[] = []
    let idx: () => Ref
    let valid: (() => Ref) | null = null
    let undefinedKey: Access['undefinedKey'] = null
    const length = (): Ref => (constArr ? m.i32.const(constArr.length) : m.local.get(arrayOf(target.object).ptr + 1, binaryen.i32))
    if (it.kind !== 'int') {
      const f = tempSet(lowerTo(target.index, f64), binaryen.f64)
      const i = tempSet(m.i32.trunc_u_sat.f64(f.get()), binaryen.i32)
      setup.push(f.set, i.set)
      idx = i.get
      valid = () => m.i32.and(m.f64.eq(m.f64.convert_u.i32(i.get()), f.get()), m.i32.lt_u(i.get(), length()))
      // An undefined index names the typed array's property "undefined" (constant arrays are never written, so theirs stays absent).
      if (mayBeUndefined(it) && !constArr) {
        const t = inst.vars[varOf(target.object)]
        if (t.kind !== 'array') throw new Error('internal: not an array')
        undefinedKey = { test: () => isUndefinedF64(f.get()), globals: ctx.undefinedKey(t.origin) }
      }
    } else {
      const i = tempSet(unchecked.has(target) ? wrappingIndex(target.index) : lower(target.index), binaryen.i32)
      setup.push(i.set)
      idx = i.get
      if (!inst.inBounds.has(target) && !unchecked.has(target)) valid = () => m.i32.lt_u(i.get(), length())
    }
    if (constArr) {
      return {
        setup, valid, element: null, constOffset: constArr.offset, undefinedKey,
        addr: () => m.i32.add(m.global.get(ctx.constBase, binaryen.i32), m.i32.shl(idx(), m.i32.const(3))),
      }
    }
    const arr = arrayOf(target.object)
    const shift = elementShift(arr.element)
    return {
      setup, valid, element: arr.element, constOffset: 0, undefinedKey,
      addr: () => m.i32.add(m.local.get(arr.ptr, binaryen.i32), shift === 0 ? idx() : m.i32.shl(idx(), m.i32.const(shift))),
    }
  }

  /**
   * Reads the element at an access in `want`: its load type when in bounds; else a `maybeNum`,
   * undefined outside, or, for a speculated load, its load type with a trap outside.
   */
  function readAccess(a: Access, want: Type, speculated: boolean): Ref {
    let loaded: { ref: Ref; type: Type }
    if (a.element === null) {
      const v = m.f64.load(a.constOffset, 8, a.addr())
      loaded = want.kind === 'int' ? { ref: m.i32.trunc_s_sat.f64(v), type: want } : { ref: v, type: f64 }
    } else {
      loaded = loadElement(a.element, a.addr())
    }
    // Typed as possibly undefined but proven in bounds (a loop's unchecked copy): the element as
    // it is, as the checked read takes it (no select per load making NaN canonical).
    if (a.valid === null) return want.kind === 'maybeNum' && loaded.type.kind === 'f64' ? loaded.ref : coerce(loaded.ref, loaded.type, want)
    if (speculated) return m.block(null, [m.if(m.i32.eqz(a.valid()), m.unreachable()), coerce(loaded.ref, loaded.type, want)], wasmType(want))
    if (want.kind !== 'maybeNum') throw new Error(`internal: unproven read as ${want.kind}`)
    // An element is taken as it is, not made canonical: a select per load would cost matmul 3×.
    // (So an f64 element holding the one reserved NaN pattern, which JS can only make by writing
    // raw bits, would read as undefined.)
    const read = m.if(a.valid(), coerce(loaded.ref, loaded.type, f64), undefinedF64())
    if (!a.undefinedKey) return read
    const { state, value } = a.undefinedKey.globals
    const property = m.select(m.i32.eq(m.global.get(state, binaryen.i32), m.i32.const(1)), m.global.get(value, binaryen.f64), undefinedF64())
    return m.if(a.undefinedKey.test(), property, read)
  }

  /** Stores a value of type `t` at an access: into the element when valid, or into the property "undefined". */
  function writeAccess(a: Access, value: () => Ref, t: Type): Ref {
    const store = storeElement(a.element!, a.addr(), value(), t)
    const guarded = a.valid === null ? store : m.if(a.valid(), store)
    if (!a.undefinedKey) return guarded
    const { state, value: slot } = a.undefinedKey.globals
    const v = tempSet(coerce(value(), t, { kind: 'maybeNum' }), binaryen.f64)
    const setProperty = m.block(null, [
      v.set,
      m.global.set(state, m.select(isUndefinedF64(v.get()), m.i32.const(2), m.i32.const(1))),
      m.global.set(slot, v.get()),
    ])
    return m.if(a.undefinedKey.test(), setProperty, guarded)
  }

  function constantElement(e: IndexExpr, t: Type): Ref | null {
    const b = inst.func.names.get(e.object)
    const it = typeOf(e.index)
    const index = it.kind === 'int' && it.lo === it.hi ? it.lo : unrolledIndex(e.index)
    if (b?.kind !== 'const' || index === null) return null
    const values = ctx.constants.get(b.name)
    if (!Array.isArray(values) || index < 0 || index >= values.length) return null
    const v = values[index] as number
    // The index expression is still evaluated (it may assign); a literal leaves nothing behind.
    // In bounds, the element's type is the constants' join: an int range or f64.
    const value = t.kind === 'int' ? m.i32.const(v) : m.f64.const(v)
    return e.index.kind === 'Num' ? value : m.block(null, [m.drop(lower(e.index)), value], wasmType(t))
  }

  /** The value of an index of literals and unrolled counters (`k + 2` in a copy where k is -1), or null. */
  function unrolledIndex(e: Expr): number | null {
    switch (e.kind) {
      case 'Num': return Number.isInteger(e.value) ? e.value : null
      case 'Name': {
        const b = inst.func.names.get(e)
        return b?.kind === 'var' ? unrolledValue.get(b.id) ?? null : null
      }
      case 'Binary': {
        if (e.op !== '+' && e.op !== '-' && e.op !== '*') return null
        const l = unrolledIndex(e.left)
        const r = l === null ? null : unrolledIndex(e.right)
        if (l === null || r === null) return null
        return e.op === '+' ? l + r : e.op === '-' ? l - r : l * r
      }
      default: return null
    }
  }

  function noteArray(target: IndexExpr, kind: 'read' | 'write'): void {
    const b = inst.func.names.get(target.object)
    if (b?.kind === 'var') ctx.noteAccess(inst, b.id, kind)
  }

  /**
   * A tree of speculative +, -, * (see Instance.checked) computed exactly in i64, its leaves
   * ints: `(y * width + x) * 4 + c` costs one int32 check, at its root, not one per operation.
   */
  function exactTree(e: Expr): Ref | null {
    const t = typeOf(e)
    if (!inst.checked.has(e)) {
      if (t.kind === 'int') return m.i64.extend_s(lower(e))
      if (t.kind === 'bool') return m.i64.extend_u(lower(e))
      return null
    }
    if (e.kind !== 'Binary' || !inst.checked.get(e)?.fusable) return null
    const l = exactTree(e.left)
    const r = l && exactTree(e.right)
    if (!l || !r) return null
    return e.op === '+' ? m.i64.add(l, r) : e.op === '-' ? m.i64.sub(l, r) : m.i64.mul(l, r)
  }

  /**
   * An index the loop's entry test proved in bounds (bounds.ts), its speculative +, -, * in
   * wrapping i32 arithmetic, unchecked. Where every partial result's JS value is below 2^53 in
   * magnitude, JS computes each exactly, and wrapping arithmetic agrees with exact arithmetic
   * modulo 2^32: on a result known to lie in [0, length) it is that result. (A -0 on the way
   * names the same element as 0.)
   */
  function wrappingIndex(e: Expr): Ref {
    const info = inst.checked.get(e)
    if (e.kind !== 'Binary' || !info || info.lo < -(2 ** 53) || info.hi > 2 ** 53) return lower(e)
    const l = wrappingIndex(e.left)
    const r = wrappingIndex(e.right)
    return e.op === '+' ? m.i32.add(l, r) : e.op === '-' ? m.i32.sub(l, r) : m.i32.mul(l, r)
  }

  /** `x ** y` (f64 base): inline for the exponents where that is exact (see power.ts), else the host's Math.pow. */
  function power(x: Ref, xt: Type, y: Ref, yt: Type): Ref {
    const k = yt.kind === 'int' || yt.kind === 'f64' ? constantExponent(y) : null
    const canonical = (ref: Ref): Ref => (mayBeUndefined(xt) ? canonicalNaN(ref) : ref)
    const inline = k === null ? null : inlinePower({ m, temp: (ref) => tempSet(ref, binaryen.f64), canonical }, x, k)
    return inline ?? m.call(ctx.mathImport('pow', 2), [x, coerce(y, yt, f64)], binaryen.f64)
  }

  /** An arithmetic or bitwise operation on two lowered operands, giving type `t`. */
  function arith(op: string, l: Ref, lt: Type, r: Ref, rt: Type, t: Type): Ref {
    const int = t.kind === 'int'
    const i32 = toI32Ref
    const fl = (): Ref => coerce(l, lt, f64)
    const fr = (): Ref => coerce(r, rt, f64)
    const intResult = (ref: Ref, unsigned = false): Ref => (int ? ref : unsigned ? m.f64.convert_u.i32(ref) : m.f64.convert_s.i32(ref))
    switch (op) {
      case '+': return int ? m.i32.add(l, r) : m.f64.add(fl(), fr())
      case '-': return int ? m.i32.sub(l, r) : m.f64.sub(fl(), fr())
      case '*': return int ? m.i32.mul(l, r) : m.f64.mul(fl(), fr())
      case '/': return m.f64.div(fl(), fr())
      case '**': return power(fl(), lt, r, rt)
      case '%': return int ? m.i32.rem_s(l, r) : m.call(ctx.helper('fmod'), [fl(), fr()], binaryen.f64)
      case '|': return intResult(m.i32.or(i32(l, lt), i32(r, rt)))
      case '&': return intResult(m.i32.and(i32(l, lt), i32(r, rt)))
      case '^': return intResult(m.i32.xor(i32(l, lt), i32(r, rt)))
      case '<<': return intResult(m.i32.shl(i32(l, lt), i32(r, rt)))
      case '>>': return intResult(m.i32.shr_s(i32(l, lt), i32(r, rt)))
      case '>>>': return intResult(m.i32.shr_u(i32(l, lt), i32(r, rt)), true)
    }
    throw new Error(`internal: operator ${op}`)
  }

  function compare(op: string, e: Extract<Expr, { kind: 'Binary' }>): Ref {
    const lt = typeOf(e.left)
    const rt = typeOf(e.right)
    const equality = op === '==' || op === '===' || op === '!=' || op === '!=='
    if (equality && (mayBeUndefined(lt) || mayBeUndefined(rt))) return compareMaybeUndefined(op, e, lt, rt)
    const mixedStrict = (op === '===' || op === '!==') && (lt.kind === 'bool') !== (rt.kind === 'bool')
    if (mixedStrict) {
      // A boolean is never strictly equal to a number.
      return m.block(null, [m.drop(lower(e.left)), m.drop(lower(e.right)), m.i32.const(op === '===' ? 0 : 1)], binaryen.i32)
    }
    if (rangeOf(lt) && rangeOf(rt)) {
      const l = lower(e.left)
      const r = lower(e.right)
      switch (op) {
        case '<': return m.i32.lt_s(l, r)
        case '<=': return m.i32.le_s(l, r)
        case '>': return m.i32.gt_s(l, r)
        case '>=': return m.i32.ge_s(l, r)
        case '==': case '===': return m.i32.eq(l, r)
        case '!=': case '!==': return m.i32.ne(l, r)
      }
    }
    const l = toF64(e.left)
    const r = toF64(e.right)
    switch (op) {
      case '<': return m.f64.lt(l, r)
      case '<=': return m.f64.le(l, r)
      case '>': return m.f64.gt(l, r)
      case '>=': return m.f64.ge(l, r)
      case '==': case '===': return m.f64.eq(l, r)
      case '!=': case '!==': return m.f64.ne(l, r)
    }
    throw new Error(`internal: comparison ${op}`)
  }

  /**
   * Equality where a side may be undefined: undefined equals only undefined (`==` too, as null
   * is not a kernel value); otherwise as for numbers and booleans, with undefined never equal.
   */
  function compareMaybeUndefined(op: string, e: Extract<Expr, { kind: 'Binary' }>, lt: Type, rt: Type): Ref {
    const strict = op === '===' || op === '!=='
    const l = tempSet(lower(e.left), wasmType(lt))
    const r = tempSet(lower(e.right), wasmType(rt))
    const isUndefined = (get: () => Ref, t: Type): Ref => {
      switch (t.kind) {
        case 'undef': return m.i32.const(1)
        case 'maybeNum': return isUndefinedF64(get())
        case 'maybeBool': return m.i32.eq(get(), m.i32.const(UNDEF_BOOL))
        default: return m.i32.const(0)
      }
    }
    const boolSide = (t: Type): boolean => t.kind === 'bool' || t.kind === 'maybeBool'
    let definedEqual: Ref
    if (lt.kind === 'undef' || rt.kind === 'undef') definedEqual = m.i32.const(0)
    else if (boolSide(lt) && boolSide(rt)) definedEqual = m.i32.eq(l.get(), r.get())
    else if (strict && boolSide(lt) !== boolSide(rt)) definedEqual = m.i32.const(0)
    // ToNumber makes undefined NaN, which equals nothing.
    else definedEqual = m.f64.eq(coerce(l.get(), lt, f64), coerce(r.get(), rt, f64))
    const bothUndefined = mayBeUndefined(lt) && mayBeUndefined(rt) ? m.i32.and(isUndefined(l.get, lt), isUndefined(r.get, rt)) : m.i32.const(0)
    const equal = m.i32.or(definedEqual, bothUndefined)
    return m.block(null, [l.set, r.set, op === '!=' || op === '!==' ? m.i32.eqz(equal) : equal], binaryen.i32)
  }

  function mathCall(e: Extract<Expr, { kind: 'Call' }>, name: string, t: Type): Ref {
    const info = mathFunctions.get(name)!
    const arg = (i: number): Ref => toF64(e.args[i])
    if (name === 'pow') return power(arg(0), typeOf(e.args[0]), lower(e.args[1]), typeOf(e.args[1]))
    if (name === 'hypot') return inlineHypot({ m, addLocal: () => addLocal(binaryen.f64) }, e.args.map((_, i) => arg(i)))
    if (info.lowering === 'import') {
      return m.call(ctx.mathImport(name, e.args.length), e.args.map((_, i) => arg(i)), binaryen.f64)
    }
    const a0 = e.args[0]
    switch (name) {
      case 'abs': {
        if (t.kind !== 'int') return m.f64.abs(bitwiseF64(a0))
        const v = tempSet(lower(a0), binaryen.i32)
        return m.block(null, [v.set, m.select(m.i32.lt_s(v.get(), m.i32.const(0)), m.i32.sub(m.i32.const(0), v.get()), v.get())], binaryen.i32)
      }
      case 'ceil': case 'floor': case 'trunc': case 'round':
        if (inst.checked.has(e)) return checkedRounding(name, arg(0))
        if (t.kind !== 'int') return roundF64(name, arg(0))
        // An int result of a number operand: inference proved it in int32 and never NaN or -0, so
        // the trapping conversion never traps (in Chromium it costs less than the saturating one).
        if (typeOf(a0).kind === 'int') return lower(a0)
        {
          // The conversion truncates: Math.trunc needs nothing more, nor Math.floor of a number >= 0.
          const at = typeOf(a0)
          const nonNegative = at.kind === 'f64' && at.lo !== undefined && at.lo >= 0
          return m.i32.trunc_s.f64(name === 'trunc' || (name === 'floor' && nonNegative) ? arg(0) : roundF64(name, arg(0)))
        }
      case 'sqrt': return m.f64.sqrt(arg(0))
      case 'fround': return m.f64.promote(m.f32.demote(arg(0)))
      case 'imul': return m.i32.mul(toI32(e.args[0]), toI32(e.args[1]))
      case 'clz32': return m.i32.clz(toI32(a0))
      case 'sign': {
        if (t.kind === 'int') {
          const v = tempSet(lower(a0), binaryen.i32)
          return m.block(null, [v.set, m.i32.sub(m.i32.gt_s(v.get(), m.i32.const(0)), m.i32.lt_s(v.get(), m.i32.const(0)))], binaryen.i32)
        }
        const v = tempSet(bitwiseF64(a0), binaryen.f64)
        return m.block(null, [v.set,
          m.select(m.f64.gt(v.get(), m.f64.const(0)), m.f64.const(1), m.select(m.f64.lt(v.get(), m.f64.const(0)), m.f64.const(-1), v.get())),
        ], binaryen.f64)
      }
      case 'min': case 'max': {
        if (e.args.length === 0) return m.f64.const(name === 'min' ? Infinity : -Infinity)
        if (t.kind === 'int') {
          // Every argument is evaluated once, in order, into a temp; then the selects pick.
          const temps = e.args.map((a) => tempSet(lower(a), binaryen.i32))
          let acc = temps[0].get()
          for (let i = 1; i < temps.length; i++) {
            const accT = tempSet(acc, binaryen.i32)
            const cmp = name === 'min' ? m.i32.lt_s(temps[i].get(), accT.get()) : m.i32.gt_s(temps[i].get(), accT.get())
            acc = m.block(null, [accT.set, m.select(cmp, temps[i].get(), accT.get())], binaryen.i32)
          }
          return m.block(null, [...temps.map((x) => x.set), acc], binaryen.i32)
        }
        // (One argument is returned as it is: bitwiseF64 keeps undefined's pattern from leaving.)
        const temps = e.args.map((a) => tempSet(bitwiseF64(a), binaryen.f64))
        let acc = temps[0].get()
        for (let i = 1; i < temps.length; i++) acc = name === 'min' ? m.f64.min(acc, temps[i].get()) : m.f64.max(acc, temps[i].get())
        return m.block(null, [...temps.map((x) => x.set), acc], binaryen.f64)
      }
    }
    throw new Error(`internal: Math.${name}`)
  }

  function lower(e: Expr): Ref {
    const t = typeOf(e)
    switch (e.kind) {
      case 'Num':
        return t.kind === 'int' ? m.i32.const(e.value) : m.f64.const(e.value)
      case 'Bool':
        return m.i32.const(e.value ? 1 : 0)
      case 'Name': {
        const b = inst.func.names.get(e)!
        switch (b.kind) {
          case 'var': return m.local.get(varLocals[b.id][0], wasmType(t))
          case 'builtin': return m.f64.const(b.value)
          case 'undefined': return undefinedF64()
          case 'const': {
            const c = ctx.constants.get(b.name)
            if (typeof c === 'boolean') return m.i32.const(c ? 1 : 0)
            if (typeof c === 'number') return t.kind === 'int' ? m.i32.const(c) : m.f64.const(c)
            throw new Error('internal: constant array as value')
          }
          case 'helper': case 'math':
            throw new Error('internal: function as value')
        }
        return unreachable(b)
      }
      case 'Member': {
        if (e.object.name === 'Math' && inst.func.names.get(e.object)?.kind === 'math') return m.f64.const(mathConstants[e.property])
        const c = constArrayOf(e.object)
        if (c) return m.i32.const(c.length)
        return m.local.get(arrayOf(e.object).len, binaryen.i32)
      }
      case 'Index': {
        // A constant array at an index known here (`LUMA[1]`, or a loop-invariant int of one value) is an immediate.
        const folded = constantElement(e, t)
        if (folded !== null) return folded
        noteArray(e, 'read')
        const a = access(e)
        return m.block(null, [...a.setup, readAccess(a, t, inst.speculated.has(e))], wasmType(t))
      }
      case 'Call': {
        if (e.mathName !== null) return mathCall(e, e.mathName, t)
        const callee = inst.calls.get(e)!
        const args: Ref[] = []
        callee.params.forEach((pt, i) => {
          const a = e.args[i]
          if (a === undefined) args.push(undefinedOf(pt))
          else if (pt.kind === 'array') {
            const arr = arrayOf(a as NameRef)
            args.push(m.local.get(arr.ptr, binaryen.i32), m.local.get(arr.len, binaryen.i32))
            for (const kind of ['read', 'write'] as const) if (ctx.touches(callee, i, kind)) ctx.noteAccess(inst, arr.varId, kind)
          } else {
            args.push(lowerTo(a, pt))
          }
        })
        const extra = e.args.slice(callee.params.length)
        if (extra.length === 0) return m.call(callee.id, args, wasmType(callee.result))
        // Arguments past the parameters are evaluated (after the others, before the call) and ignored.
        const temps = args.map((ref) => tempSet(ref, binaryen.getExpressionType(ref)))
        const extras = extra.map((x) => (typeOf(x).kind === 'array' ? m.nop() : dropValue(x)))
        return m.block(null, [...temps.map((x) => x.set), ...extras, m.call(callee.id, temps.map((x) => x.get()), wasmType(callee.result))], wasmType(callee.result))
      }
      case 'Unary': {
        const at = typeOf(e.arg)
        switch (e.op) {
          case '!': return m.i32.eqz(truthy(e.arg))
          case 'void': return m.block(null, [dropValue(e.arg), undefinedF64()], binaryen.f64)
          case '+': return t.kind === 'f64' ? bitwiseF64(e.arg) : coerce(lower(e.arg), at, t)
          case '~': return m.i32.xor(toI32(e.arg), m.i32.const(-1))
          case '-': return t.kind === 'int' ? m.i32.sub(m.i32.const(0), lower(e.arg)) : m.f64.neg(bitwiseF64(e.arg))
        }
        throw new Error('internal: unary operator')
      }
      case 'Binary':
        switch (e.op) {
          case '<': case '<=': case '>': case '>=': case '==': case '!=': case '===': case '!==':
            return compare(e.op, e)
          case '|': case '&': case '^': case '<<': case '>>': case '>>>':
            return arith(e.op, toI32(e.left), fullInt, toI32(e.right), fullInt, t)
          default:
            if (inst.checked.has(e)) {
              const tree = exactTree(e)
              if (tree) return fitsInt32(tree)
              return checkedInt(e.op, lower(e.left), lower(e.right), (rangeOf(typeOf(e.left))?.lo ?? -1) >= 0 && (rangeOf(typeOf(e.right))?.lo ?? -1) >= 0)
            }
            return arith(e.op, lower(e.left), typeOf(e.left), lower(e.right), typeOf(e.right), t)
        }
      case 'Logical': {
        if (e.op === '??') {
          const lt = typeOf(e.left)
          if (!mayBeUndefined(lt)) return m.block(null, [lowerTo(e.left, t)], wasmType(t))
          if (lt.kind === 'undef') return m.block(null, [dropValue(e.left), lowerTo(e.right, t)], wasmType(t))
          // A maybeNum or maybeBool: the value itself unless it is undefined (its defined values
          // already have t's representation: inference joined the two sides in one family).
          const left = tempSet(lower(e.left), wasmType(lt))
          const isUndef = lt.kind === 'maybeNum' ? isUndefinedF64(left.get()) : m.i32.eq(left.get(), m.i32.const(UNDEF_BOOL))
          return m.block(null, [left.set, m.if(isUndef, lowerTo(e.right, t), left.get())], wasmType(t))
        }
        const tmp = tempSet(lowerTo(e.left, t), wasmType(t))
        const right = lowerTo(e.right, t)
        const test = truthyRef(tmp.get(), t)
        return m.block(null, [tmp.set, e.op === '&&' ? m.if(test, right, tmp.get()) : m.if(test, tmp.get(), right)], wasmType(t))
      }
      case 'Cond':
        return m.if(truthy(e.test), lowerTo(e.then, t), lowerTo(e.else, t))
      case 'Assign':
        return lowerAssign(e, t)
      case 'Update':
        return lowerUpdate(e, t)
      case 'Seq': {
        const parts = e.exprs.map((x, i) => (i < e.exprs.length - 1 ? dropValue(x) : lower(x)))
        return m.block(null, parts, wasmType(t))
      }
      default:
        return unreachable(e)
    }
  }

  function dropValue(e: Expr): Ref {
    const t = typeOf(e)
    // `h = h + k` into a wrapped local, its value unused: only ToInt32 of it is kept.
    if (e.kind === 'Assign' && e.op === '=' && e.target.kind === 'Name' && inst.wrapped.has(varOf(e.target))) {
      return m.local.set(varLocals[varOf(e.target)][0], toI32(e.value))
    }
    return wrappingElementUpdate(e) ?? (t.kind === 'void' ? lower(e) : m.drop(lower(e)))
  }

  /**
   * `a[j]++`, `a[j]--`, `a[j] += k` and `a[j] -= k` on an i32 or u32 array, as a statement: the
   * exact sum of two 32-bit integers fits an f64, and the store keeps its low 32 bits, so a
   * wrapping `i32.add` stores the same (histograms, counters). Null when the form does not apply.
   */
  function wrappingElementUpdate(e: Expr): Ref | null {
    const update = e.kind === 'Update'
    if (!update && !(e.kind === 'Assign' && (e.op === '+=' || e.op === '-='))) return null
    const target = e.target
    if (target.kind !== 'Index' || constArrayOf(target.object)) return null
    const arr = arrayOf(target.object)
    if (arr.element !== 'i32' && arr.element !== 'u32') return null
    const rhsType = update ? null : typeOf(e.value)
    if (rhsType && rhsType.kind !== 'int' && rhsType.kind !== 'bool') return null
    // An index that may be undefined names the property "undefined": the general lowering.
    if (mayBeUndefined(typeOf(target.index))) return null
    const a = access(target)
    noteArray(target, 'read')
    noteArray(target, 'write')
    const minus = update ? e.op === '--' : e.op === '-='
    const old = tempSet(m.i32.load(0, 4, a.addr()), binaryen.i32)
    // JS reads the element, then evaluates the right side, then stores.
    const rhs = update ? m.i32.const(1) : lower(e.value)
    const store = m.block(null, [old.set, m.i32.store(0, 4, a.addr(), minus ? m.i32.sub(old.get(), rhs) : m.i32.add(old.get(), rhs))])
    if (a.valid === null) return m.block(null, [...a.setup, store])
    // Out of bounds nothing is stored, but the right side is still evaluated.
    const elseRhs = update ? m.nop() : m.drop(lower(e.value))
    return m.block(null, [...a.setup, m.if(a.valid(), store, elseRhs)])
  }

  function lowerAssign(e: Extract<Expr, { kind: 'Assign' }>, t: Type): Ref {
    if (e.target.kind === 'Name') {
      const v = varOf(e.target)
      const vt = inst.vars[v]
      const local = varLocals[v][0]
      if (inst.wrapped.has(v) && (t.kind === 'f64' || t.kind === 'maybeNum' || t.kind === 'undef')) {
        // A wrapped local keeps ToInt32 of what it is given, but the expression's value is the
        // whole value: in JS, (x = 2.5) is 2.5, and (x >>>= 0) with x = -1 is 4294967295.
        const whole = e.op === '='
          ? lowerTo(e.value, t)
          : arith(e.op.slice(0, -1), m.local.get(local, binaryen.i32), vt, lower(e.value), typeOf(e.value), f64)
        const value = tempSet(whole, binaryen.f64)
        return m.block(null, [value.set, m.local.set(local, m.call(ctx.helper('toInt32'), [value.get()], binaryen.i32)), value.get()], binaryen.f64)
      }
      if (e.op === '=') return m.local.tee(local, assignedValue(e.value, v), wasmType(vt))
      const op = e.op.slice(0, -1)
      const rt = typeOf(e.value)
      if (inst.checked.has(e)) return m.local.tee(local, checkedInt(op, m.local.get(local, binaryen.i32), coerce(lower(e.value), rt, vt)), binaryen.i32)
      const value = arith(op, m.local.get(local, wasmType(vt)), vt, lower(e.value), rt, vt.kind === 'int' ? vt : f64)
      return m.local.tee(local, vt.kind === 'int' ? value : coerce(value, f64, vt), wasmType(vt))
    }
    noteArray(e.target, 'write')
    const a = access(e.target)
    if (e.op === '=') {
      const vt = typeOf(e.value)
      const val = tempSet(lower(e.value), wasmType(vt))
      return m.block(null, [...a.setup, val.set, writeAccess(a, val.get, vt), val.get()], wasmType(vt))
    }
    noteArray(e.target, 'read')
    const oldType = typeOf(e.target)
    const old = readAccess(a, oldType, inst.speculated.has(e.target))
    const result = tempSet(arith(e.op.slice(0, -1), old, oldType, lower(e.value), typeOf(e.value), t), wasmType(t))
    return m.block(null, [...a.setup, result.set, writeAccess(a, result.get, t), result.get()], wasmType(t))
  }

  function lowerUpdate(e: Extract<Expr, { kind: 'Update' }>, t: Type): Ref {
    const delta = e.op === '++' ? 1 : -1
    if (e.target.kind === 'Name') {
      const v = varOf(e.target)
      const vt = inst.vars[v]
      const local = varLocals[v][0]
      const wt = wasmType(vt)
      // (A maybeNum local holds the sum as a number: NaN made canonical, never the undefined pattern.)
      const next = (ref: Ref): Ref => (vt.kind !== 'int' ? coerce(m.f64.add(ref, m.f64.const(delta)), f64, vt)
        : inst.checked.has(e) ? checkedInt('+', ref, m.i32.const(delta)) : m.i32.add(ref, m.i32.const(delta)))
      if (e.prefix) return m.local.tee(local, next(m.local.get(local, wt)), wt)
      const old = tempSet(m.local.get(local, wt), wt)
      return m.block(null, [old.set, m.local.set(local, next(old.get())), old.get()], wt)
    }
    noteArray(e.target, 'read')
    noteArray(e.target, 'write')
    const a = access(e.target)
    const oldType = typeOf(e.target)
    const old = tempSet(readAccess(a, oldType, inst.speculated.has(e.target)), wasmType(oldType))
    const one: Type = { kind: 'int', lo: 1, hi: 1 }
    const next = tempSet(arith(delta === 1 ? '+' : '-', old.get(), oldType, m.i32.const(1), one, t), wasmType(t))
    const value = e.prefix ? next.get() : coerce(old.get(), oldType, t)
    return m.block(null, [...a.setup, old.set, next.set, writeAccess(a, next.get, t), value], wasmType(t))
  }

  function loopLabels(l: BreakTarget): { brk: string; cont: string; top: string } {
    let x = labels.get(l)
    if (!x) {
      const n = labelCounter++
      x = { brk: `brk${n}`, cont: `cont${n}`, top: `top${n}` }
      labels.set(l, x)
    }
    return x
  }

  function laneEmitter(): LaneEmitter {
    return {
      m,
      addLocal,
      scalarLocal: (v) => ({ index: varLocals[v][0], type: wasmType(inst.vars[v]) }),
      array: (v) => {
        const t = inst.vars[v]
        if (t.kind !== 'array') throw new Error('internal: not an array')
        return { ptr: varLocals[v][0], len: varLocals[v][1], element: t.element }
      },
      loadElement,
      storeElement,
      mathImport: (name, arity) => ctx.mathImport(name, arity),
      constants: ctx.constants,
      constantValue: (name) => {
        const c = ctx.constants.get(name)
        return typeof c === 'number' ? c : typeof c === 'boolean' ? Number(c) : null
      },
    }
  }

  function stmts(list: readonly Stmt[]): Ref {
    return m.block(null, list.map(stmt))
  }

  function stmt(s: Stmt): Ref {
    switch (s.kind) {
      case 'Let':
        return m.block(null, s.decls.map((d) => {
          const v = inst.func.decls.get(d)!
          return m.local.set(varLocals[v][0], assignedValue(d.init, v))
        }))
      case 'If':
        return m.if(truthy(s.test), stmt(s.then), s.else ? stmt(s.else) : undefined)
      // Loops are rotated: the test before the first iteration, then at the bottom. The body is
      // then the loop's header block, which dominates its exit, so V8 keeps loop-invariant values
      // computed before the loop there (with the test at the top, Node 20's V8 recomputes
      // values used only in the body on every iteration: biquad ran 2.5× slower).
      case 'For': {
        const plan = unrollPlan(s, inst.func)
        if (plan && inst.vars[plan.v].kind === 'int') {
          // Unrolled (see unroll.ts): the counter set to each value, then the body, then its final value.
          const counter = varLocals[plan.v][0]
          const copies = plan.values.flatMap((v) => {
            // Within this copy the counter is v: constant-array elements it indexes are immediates.
            unrolledValue.set(plan.v, v)
            try {
              return [m.local.set(counter, m.i32.const(v)), stmt(s.body)]
            } finally {
              unrolledValue.delete(plan.v)
            }
          })
          return m.block(null, [...copies, m.local.set(counter, m.i32.const(plan.end))])
        }
        const l = loopLabels(s)
        const rotated = (): Ref => {
          const { cont, top } = loopLabels(s)
          return m.loop(top, m.block(null, [
            m.block(cont, [stmt(s.body)]),
            s.update ? dropValue(s.update) : m.nop(),
            s.test ? m.br(top, truthy(s.test)) : m.br(top),
          ]))
        }
        const labelsBefore = new Set(labels.keys())
        const checkedLoop = rotated()
        // Loops inside must be unrolled or counted with invariant bounds (bounds.ts), unless the
        // loop is vectorized (emitted once more, as lanes); accesses an enclosing fast copy
        // already proved are not versioned again.
        let version = s.test ? versionPlan(s, inst, { proven: unchecked }) : null
        let lanes = version && ctx.simd ? lanePlan(s, inst, version, ctx.constants) : null
        if (!version && s.test && ctx.simd) {
          version = versionPlan(s, inst, { innerLoops: true })
          lanes = version && lanePlan(s, inst, version, ctx.constants)
          if (!lanes) version = null
        }
        if (!version) return m.block(l.brk, [s.init ? stmt(s.init) : m.nop(), s.test ? m.if(truthy(s.test), checkedLoop) : checkedLoop])
        // Versioned (see bounds.ts): one test on entry, then a copy whose proven accesses are unchecked.
        // Loops inside get fresh labels in that copy.
        for (const key of labels.keys()) if (!labelsBefore.has(key)) labels.delete(key)
        const n = labelCounter++
        labels.set(s, { brk: l.brk, cont: `cont${n}`, top: `top${n}` })
        version.accesses.forEach((a) => unchecked.add(a))
        const fastLoop = rotated()
        version.accesses.forEach((a) => unchecked.delete(a))
        const guard = emitGuard(version, {
          m,
          local: (v) => m.local.get(varLocals[v][0], binaryen.i32),
          length: (v) => m.local.get(varLocals[v][1], binaryen.i32),
          bound: (e) => lower(e),
        }, inst)
        let fast = fastLoop
        if (lanes) {
          // Two iterations at a time while both are in range (vectorize.ts), then the rest one by one.
          ctx.noteSimd()
          const env = laneEmitter()
          const vector = emitLanes(lanes, s, inst, env, () => lower((s.test as Extract<Expr, { kind: 'Binary' }>).right), `lanes${labelCounter++}`)
          const disjoint = emitDisjoint(lanes, env)
          fast = m.block(null, [disjoint ? m.if(disjoint, vector) : vector, m.if(truthy(s.test!), fastLoop)])
        }
        return m.block(l.brk, [s.init ? stmt(s.init) : m.nop(), m.if(truthy(s.test!), m.if(guard, fast, checkedLoop))])
      }
      case 'While': {
        const l = loopLabels(s)
        return m.block(l.brk, [m.if(truthy(s.test), m.loop(l.top, m.block(null, [
          m.block(l.cont, [stmt(s.body)]),
          m.br(l.top, truthy(s.test)),
        ])))])
      }
      case 'DoWhile': {
        const l = loopLabels(s)
        return m.block(l.brk, [m.loop(l.top, m.block(null, [
          m.block(l.cont, [stmt(s.body)]),
          m.br(l.top, truthy(s.test)),
        ]))])
      }
      case 'Break':
        return m.br(loopLabels(inst.func.jumps.get(s)!).brk)
      case 'Continue':
        return m.br(loopLabels(inst.func.jumps.get(s)!).cont)
      case 'Return':
        if (!s.value) return inst.result.kind === 'void' ? m.return() : m.return(undefinedOf(inst.result))
        if (inst.result.kind === 'void') return m.block(null, [dropValue(s.value), m.return()])
        return m.return(lowerTo(s.value, inst.result))
      case 'Block':
        return s.label ? m.block(loopLabels(s).brk, s.body.map(stmt)) : stmts(s.body)
      case 'ExprStmt':
        return dropValue(s.expr)
      case 'Empty':
        return m.nop()
      default:
        return unreachable(s)
    }
  }

  const body = [...entry, stmts(inst.func.fn.body)]
  // Falling off the end returns undefined (inference made the result hold it when that can happen).
  if (inst.result.kind !== 'void') body.push(mayBeUndefined(inst.result) ? m.return(undefinedOf(inst.result)) : m.unreachable())
  m.addFunction(inst.id, binaryen.createType(paramTypes), wasmType(inst.result), localTypes, m.block(null, body))
}

