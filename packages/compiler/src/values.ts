// How one function's values are represented in wasm, by type (not by AST): conversions between
// numbers, ints, booleans and undefined, ToInt32 and truthiness, typed-array element loads and
// stores with their conversions, and the checks of speculative int32 operations. lower.ts
// builds each function with these; vectorize.ts stores lanes through them.

import binaryen from 'binaryen'
import { elementInfo, type ElementTypeName } from './signature.js'
import { f64, UNDEFINED_BITS, type Type } from './types.js'

type Ref = binaryen.ExpressionRef

/** The `maybeBool` value of undefined. */
export const UNDEF_BOOL = 2

export type ValueOps = ReturnType<typeof valueOps>

/** The operations for one function: `addLocal` makes its temps, `helper` names a runtime helper (`toInt32`, `round`). */
export function valueOps(m: binaryen.Module, addLocal: (t: binaryen.Type) => number, helper: (name: 'toInt32' | 'round') => string) {
  function tempSet(ref: Ref, t: binaryen.Type): { set: Ref; get: () => Ref } {
    const l = addLocal(t)
    return { set: m.local.set(l, ref), get: () => m.local.get(l, t) }
  }

  const undefinedF64 = (): Ref => m.f64.const_bits(UNDEFINED_BITS)
  /** Whether an f64 holds the undefined pattern (only meaningful for `maybeNum` values). */
  const isUndefinedF64 = (ref: Ref): Ref => m.i64.eq(m.i64.reinterpret(ref), m.i64.const(UNDEFINED_BITS))
  /** Any NaN made the canonical one, so that a number entering a `maybeNum` slot never reads as undefined. */
  function canonicalNaN(ref: Ref): Ref {
    if (binaryen.getExpressionId(ref) === binaryen.ConstId) return ref
    const v = tempSet(ref, binaryen.f64)
    return m.block(null, [v.set, m.select(m.f64.eq(v.get(), v.get()), v.get(), m.f64.const(NaN))], binaryen.f64)
  }
  /** The value undefined in the representation of `t` (a type that may hold it). */
  function undefinedOf(t: Type): Ref {
    if (t.kind === 'maybeBool') return m.i32.const(UNDEF_BOOL)
    if (t.kind === 'maybeNum' || t.kind === 'undef') return undefinedF64()
    throw new Error(`internal: undefined as a ${t.kind}`)
  }

  function coerce(ref: Ref, from: Type, to: Type): Ref {
    if (from.kind === to.kind && from.kind !== 'int') return ref
    switch (to.kind) {
      case 'f64':
        if (from.kind === 'int') return m.f64.convert_s.i32(ref)
        if (from.kind === 'bool') return m.f64.convert_u.i32(ref)
        if (from.kind === 'maybeBool') {
          // ToNumber: 0, 1, or NaN for undefined.
          const v = tempSet(ref, binaryen.i32)
          return m.block(null, [v.set, m.select(m.i32.eq(v.get(), m.i32.const(UNDEF_BOOL)), m.f64.const(NaN), m.f64.convert_u.i32(v.get()))], binaryen.f64)
        }
        // undefined is a NaN to every number operation; a plain f64 may hold any NaN bits.
        if (from.kind === 'maybeNum' || from.kind === 'undef') return ref
        break
      case 'maybeNum':
        if (from.kind === 'int') return m.f64.convert_s.i32(ref)
        if (from.kind === 'bool') return m.f64.convert_u.i32(ref)
        if (from.kind === 'f64') return canonicalNaN(ref)
        if (from.kind === 'undef') return ref
        if (from.kind === 'maybeBool') {
          const v = tempSet(ref, binaryen.i32)
          return m.block(null, [v.set, m.select(m.i32.eq(v.get(), m.i32.const(UNDEF_BOOL)), undefinedF64(), m.f64.convert_u.i32(v.get()))], binaryen.f64)
        }
        break
      case 'maybeBool':
        if (from.kind === 'bool') return ref
        if (from.kind === 'undef') return m.block(null, [m.drop(ref), m.i32.const(UNDEF_BOOL)], binaryen.i32)
        break
      case 'int':
        if (from.kind === 'int' || from.kind === 'bool') return ref
        throw new Error(`internal: ${from.kind} value in an int register`)
      case 'bool': case 'undef': case 'void': case 'array':
        break
    }
    throw new Error(`internal: cannot convert ${from.kind} to ${to.kind}`)
  }

  /** ToInt32 of a lowered value of type `t`. */
  function toI32Ref(ref: Ref, t: Type): Ref {
    switch (t.kind) {
      case 'int': case 'bool': return ref
      // undefined (2) is NaN, which is 0.
      case 'maybeBool': return m.i32.and(ref, m.i32.const(1))
      default: return m.call(helper('toInt32'), [coerce(ref, t, f64)], binaryen.i32)
    }
  }
  /** JS truthiness as an i32 condition (nonzero = true). */
  function truthyRef(ref: Ref, t: Type): Ref {
    switch (t.kind) {
      // NaN (and undefined, a NaN here) is false.
      case 'f64': case 'maybeNum': return m.f64.gt(m.f64.abs(ref), m.f64.const(0))
      case 'maybeBool': return m.i32.eq(ref, m.i32.const(1))
      case 'undef': return m.block(null, [m.drop(ref), m.i32.const(0)], binaryen.i32)
      default: return ref
    }
  }
  /** Loads an element at `addr`; int-like elements give i32, the rest f64. */
  function loadElement(element: ElementTypeName, addr: Ref): { ref: Ref; type: Type } {
    const bytes = elementInfo[element].bytes
    switch (element) {
      case 'f64': return { ref: m.f64.load(0, bytes, addr), type: f64 }
      case 'f32': return { ref: m.f64.promote(m.f32.load(0, bytes, addr)), type: f64 }
      case 'u32': return { ref: m.f64.convert_u.i32(m.i32.load(0, bytes, addr)), type: f64 }
      case 'i32': return { ref: m.i32.load(0, bytes, addr), type: { kind: 'int', lo: 0, hi: 0 } }
      case 'i16': return { ref: m.i32.load16_s(0, bytes, addr), type: { kind: 'int', lo: 0, hi: 0 } }
      case 'u16': return { ref: m.i32.load16_u(0, bytes, addr), type: { kind: 'int', lo: 0, hi: 0 } }
      case 'i8': return { ref: m.i32.load8_s(0, bytes, addr), type: { kind: 'int', lo: 0, hi: 0 } }
      case 'u8': case 'u8c': return { ref: m.i32.load8_u(0, bytes, addr), type: { kind: 'int', lo: 0, hi: 0 } }
    }
  }

  /** Converts a value to what element `element` stores, and stores it at `addr`. */
  function storeElement(element: ElementTypeName, addr: Ref, value: Ref, t: Type): Ref {
    const bytes = elementInfo[element].bytes
    if (t.kind === 'maybeBool' || t.kind === 'undef' || t.kind === 'maybeNum') {
      // Stored as a number: ToNumber(undefined) is NaN, made canonical in an f64 element so that
      // the undefined pattern never reaches memory (loads take elements as they are). Every
      // other element type turns any NaN into 0 (or a NaN of its own, f32) by itself.
      value = t.kind === 'maybeBool' || element !== 'f64' ? coerce(value, t, f64) : canonicalNaN(value)
      t = f64
    }
    const asI32 = (): Ref => toI32Ref(value, t)
    switch (element) {
      case 'f64': return m.f64.store(0, bytes, addr, coerce(value, t, f64))
      case 'f32': return m.f32.store(0, bytes, addr, m.f32.demote(coerce(value, t, f64)))
      case 'i32': case 'u32': return m.i32.store(0, bytes, addr, asI32())
      case 'i16': case 'u16': return m.i32.store16(0, bytes, addr, asI32())
      case 'i8': case 'u8': return m.i32.store8(0, bytes, addr, asI32())
      case 'u8c': {
        // Already within [0, 255] (a byte read from another array, a clamped value): no clamp.
        if (t.kind === 'int' && t.lo >= 0 && t.hi <= 255) return m.i32.store8(0, 1, addr, value)
        if (t.kind === 'f64') {
          // ToUint8Clamp: NaN → 0, clamp to [0, 255], round half to even. `x > 0 ? x : 0`
          // takes NaN, -0 and negatives to 0; at most 255 (a value known to be below needs no
          // cap); then + 2^52 (whose ulp is 1) rounds half to even and leaves the byte in the
          // low bits, cheaper than f64.nearest and a conversion (blur: 3.2 → 2.3 ms in Node).
          const v = tempSet(value, binaryen.f64)
          const positive = m.select(m.f64.gt(v.get(), m.f64.const(0)), v.get(), m.f64.const(0))
          const capped = t.hi !== undefined && t.hi <= 255 ? positive : m.f64.min(positive, m.f64.const(255))
          const rounded = m.f64.add(capped, m.f64.const(2 ** 52))
          return m.block(null, [v.set, m.i32.store8(0, 1, addr, m.i32.wrap(m.i64.reinterpret(rounded)))])
        }
        if (t.kind === 'bool') return m.i32.store8(0, 1, addr, value)
        const v = tempSet(value, binaryen.i32)
        const lowClamped = m.select(m.i32.lt_s(v.get(), m.i32.const(0)), m.i32.const(0), v.get())
        const clamped = m.select(m.i32.gt_s(v.get(), m.i32.const(255)), m.i32.const(255), lowClamped)
        return m.block(null, [v.set, m.i32.store8(0, 1, addr, clamped)])
      }
    }
  }

  /**
   * `l op r` (+, -, *, %) of two i32 values as the int32 JS gives, or a trap where JS gives
   * something else: a result outside int32, or -0 (a zero product with a negative operand, a
   * zero remainder of a negative dividend). Computed exactly in i64 (a product of two int32 is
   * below 2^62). `nonNegative`: both operands are known >= 0.
   */
  function checkedInt(op: string, l: Ref, r: Ref, nonNegative = false): Ref {
    const a = tempSet(l, binaryen.i32)
    const b = tempSet(r, binaryen.i32)
    if (op === '/') {
      // A length (>= 0) divided by a positive int: the exact quotient, or a trap where it is not an integer.
      const inexact = m.i32.ne(m.i32.rem_u(a.get(), b.get()), m.i32.const(0))
      return m.block(null, [a.set, b.set, m.if(inexact, m.unreachable()), m.i32.div_u(a.get(), b.get())], binaryen.i32)
    }
    if (op === '%') {
      // i32.rem_s is JS's % for ints but where JS gives -0: a zero remainder of a negative dividend.
      const rem = tempSet(m.i32.rem_s(a.get(), b.get()), binaryen.i32)
      const negZero = m.i32.and(m.i32.eqz(rem.get()), m.i32.lt_s(a.get(), m.i32.const(0)))
      return m.block(null, [a.set, b.set, rem.set, m.if(negZero, m.unreachable()), rem.get()], binaryen.i32)
    }
    const wa = m.i64.extend_s(a.get())
    const wb = m.i64.extend_s(b.get())
    const exact = tempSet(op === '+' ? m.i64.add(wa, wb) : op === '-' ? m.i64.sub(wa, wb) : m.i64.mul(wa, wb), binaryen.i64)
    const narrow = (): Ref => m.i32.wrap(exact.get())
    let bad = m.i64.ne(exact.get(), m.i64.extend_s(narrow()))
    // (A product of two operands >= 0 is never -0.)
    if (op === '*' && !nonNegative) bad = m.i32.or(bad, m.i32.and(m.i64.eqz(exact.get()), m.i32.lt_s(m.i32.or(a.get(), b.get()), m.i32.const(0))))
    return m.block(null, [a.set, b.set, exact.set, m.if(bad, m.unreachable()), narrow()], binaryen.i32)
  }

  /** An exact i64 value as an int32, trapping where it is not one. */
  function fitsInt32(value: Ref): Ref {
    const v = tempSet(value, binaryen.i64)
    const narrow = (): Ref => m.i32.wrap(v.get())
    return m.block(null, [v.set, m.if(m.i64.ne(v.get(), m.i64.extend_s(narrow())), m.unreachable()), narrow()], binaryen.i32)
  }

  /**
   * Speculative Math.floor / ceil / trunc / round of a number as an int32, trapping where JS
   * gives something else: NaN or a result outside int32 (the trapping conversion), or -0 (a zero
   * result of a negative or -0 operand).
   */
  function checkedRounding(name: string, x: Ref): Ref {
    const v = tempSet(x, binaryen.f64)
    const r = tempSet(m.i32.trunc_s.f64(roundF64(name, v.get())), binaryen.i32)
    const negZero = m.i32.and(m.i32.eqz(r.get()), m.i64.lt_s(m.i64.reinterpret(v.get()), m.i64.const(0)))
    return m.block(null, [v.set, r.set, m.if(negZero, m.unreachable()), r.get()], binaryen.i32)
  }

  /** Math.floor / ceil / trunc / round of an f64, as an f64. */
  function roundF64(name: string, x: Ref): Ref {
    switch (name) {
      case 'floor': return m.f64.floor(x)
      case 'ceil': return m.f64.ceil(x)
      case 'trunc': return m.f64.trunc(x)
      default: return m.call(helper('round'), [x], binaryen.f64)
    }
  }

  return { tempSet, undefinedF64, isUndefinedF64, canonicalNaN, undefinedOf, coerce, toI32Ref, truthyRef, loadElement, storeElement, checkedInt, fitsInt32, checkedRounding, roundF64 }
}
