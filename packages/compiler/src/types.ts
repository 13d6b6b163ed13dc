// Value types of the kernel language as the compiler sees them. Every number is a JS number;
// `int` marks numbers proven to be integers in [lo, hi] ⊂ int32 and never -0, which may live
// in an i32 register without changing any result.

import type { ElementTypeName, ParamType } from './signature.js'

export type Type =
  /**
   * Any number. `lo`/`hi`, when present, bound it, and it is then never NaN (every operation
   * that gives bounds gives them only where its result cannot be NaN); `negZero: false` says
   * it is never -0 either. What loop bounds such as `i < n / 2` need to keep `i` an int, and
   * what makes `Math.floor(y * ratio)` an int.
   */
  | { kind: 'f64'; lo?: number; hi?: number; negZero?: boolean }
  | { kind: 'int'; lo: number; hi: number }
  | { kind: 'bool' }
  /** `origin`: the kernel parameter (the JS object) the array is; helpers are instantiated per origin. */
  | { kind: 'array'; element: ElementTypeName; origin: number }
  | { kind: 'void' }
  /** The value `undefined` (a missing argument, `undefined`, `void x`); held as the f64 sentinel. */
  | { kind: 'undef' }
  /**
   * A number or `undefined` (an unproven array read, a path that returns nothing), in an f64:
   * undefined is the one NaN bit pattern `UNDEFINED_BITS`, which nothing computed reproduces
   * (see there) and which never reaches memory.
   */
  | { kind: 'maybeNum' }
  /** A boolean or `undefined`, in an i32: 0, 1, or 2 for undefined. */
  | { kind: 'maybeBool' }

/**
 * The f64 bits that stand for `undefined` in an `undef` or `maybeNum` value: a signaling NaN.
 * Every wasm arithmetic result is a quiet NaN, so arithmetic on undefined can never produce the
 * pattern again; only moves and the bit operations (neg, abs, copysign) keep it, and the
 * lowering makes their operands canonical when they may be undefined.
 */
export const UNDEFINED_BITS = 0x7ff0_0000_0bad_f00dn

export const I32_MIN = -2147483648
export const I32_MAX = 2147483647
/** Kernel memory is capped below 2 GiB (see the runtime), so any length fits well inside int32. */
export const MAX_LENGTH = 2147418112

export const f64: Type = { kind: 'f64' }
export const bool: Type = { kind: 'bool' }
export const voidType: Type = { kind: 'void' }
export const fullInt: Type = { kind: 'int', lo: I32_MIN, hi: I32_MAX }
export const undef: Type = { kind: 'undef' }
export const maybeNum: Type = { kind: 'maybeNum' }

/** An int type if [lo, hi] fits int32, else f64. */
export function intRange(lo: number, hi: number): Type {
  return lo >= I32_MIN && hi <= I32_MAX && lo <= hi ? { kind: 'int', lo, hi } : f64
}

/**
 * A number in [lo, hi], never NaN, and never -0 unless `negZero` (the default: may be); plain
 * f64 when a bound is not finite.
 */
export function boundedF64(lo: number, hi: number, negZero = true): Type {
  return Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi ? { kind: 'f64', lo, hi, negZero } : f64
}

/** Whether a number of this type may be -0 (ints never are; unbounded f64 may). */
export function mayBeNegZero(t: Type): boolean {
  return t.kind === 'f64' ? t.lo === undefined || t.negZero !== false : false
}

/** Bounds of a value that is not NaN: an int's range, a bool's [0, 1], a bounded f64's bounds. */
export function boundsOf(t: Type): { lo: number; hi: number } | null {
  if (t.kind === 'f64') return t.lo !== undefined && t.hi !== undefined ? { lo: t.lo, hi: t.hi } : null
  return rangeOf(t)
}

export function isNumeric(t: Type): t is { kind: 'f64'; lo?: number; hi?: number } | { kind: 'int'; lo: number; hi: number } {
  return t.kind === 'f64' || t.kind === 'int'
}

/** The type of a numeric literal or folded constant. */
export function typeOfNumber(v: number): Type {
  if (Number.isInteger(v) && !Object.is(v, -0) && v >= I32_MIN && v <= I32_MAX) return { kind: 'int', lo: v, hi: v }
  return Number.isNaN(v) ? f64 : boundedF64(v, v, Object.is(v, -0))
}

/** Range of an int-typed value; bool counts as [0, 1] (ToNumber). */
export function rangeOf(t: Type): { lo: number; hi: number } | null {
  if (t.kind === 'int') return { lo: t.lo, hi: t.hi }
  if (t.kind === 'bool') return { lo: 0, hi: 1 }
  return null
}

/** Whether a value of this type may be `undefined`. */
export function mayBeUndefined(t: Type): boolean {
  return t.kind === 'undef' || t.kind === 'maybeNum' || t.kind === 'maybeBool'
}

/** A number, or a number or undefined: what ToNumber of it needs no boolean conversion for. */
export function numberish(t: Type): boolean {
  return t.kind === 'f64' || t.kind === 'int' || t.kind === 'maybeNum' || t.kind === 'undef'
}

function boolish(t: Type): boolean {
  return t.kind === 'bool' || t.kind === 'maybeBool' || t.kind === 'undef'
}

/** The type without `undefined` (what `x ?? y` keeps of x). */
export function defined(t: Type): Type | null {
  if (t.kind === 'undef') return null
  if (t.kind === 'maybeNum') return f64
  if (t.kind === 'maybeBool') return bool
  return t
}

/** Least upper bound of two value types, or null when they cannot share a register. */
export function join(a: Type | null, b: Type): Type | null {
  if (a === null) return b
  if (a.kind === 'int' && b.kind === 'int') return intRange(Math.min(a.lo, b.lo), Math.max(a.hi, b.hi))
  if (isNumeric(a) && isNumeric(b)) {
    const ba = boundsOf(a)
    const bb = boundsOf(b)
    return ba && bb ? boundedF64(Math.min(ba.lo, bb.lo), Math.max(ba.hi, bb.hi), mayBeNegZero(a) || mayBeNegZero(b)) : f64
  }
  if (mayBeUndefined(a) || mayBeUndefined(b)) {
    if (a.kind === 'undef' && b.kind === 'undef') return a
    if (numberish(a) && numberish(b)) return maybeNum
    if (boolish(a) && boolish(b)) return { kind: 'maybeBool' }
    return null
  }
  if (a.kind === b.kind && a.kind !== 'array') return a
  if (a.kind === 'array' && b.kind === 'array' && a.element === b.element && a.origin === b.origin) return a
  return null
}

export function sameType(a: Type | null, b: Type | null): boolean {
  if (a === null || b === null) return a === b
  if (a.kind !== b.kind) return false
  if (a.kind === 'int' && b.kind === 'int') return a.lo === b.lo && a.hi === b.hi
  if (a.kind === 'f64' && b.kind === 'f64') return a.lo === b.lo && a.hi === b.hi && mayBeNegZero(a) === mayBeNegZero(b)
  if (a.kind === 'array' && b.kind === 'array') return a.element === b.element && a.origin === b.origin
  return true
}

export function typeName(t: Type): string {
  switch (t.kind) {
    case 'f64': return 'number'
    case 'int': return 'number'
    case 'bool': return 'boolean'
    case 'array': return `${t.element}[]`
    case 'void': return 'undefined'
    case 'undef': return 'undefined'
    case 'maybeNum': return 'number (or undefined)'
    case 'maybeBool': return 'boolean (or undefined)'
  }
}

/** The type a loaded element has when the index is proven in bounds. */
export function elementValueType(element: ElementTypeName): Type {
  switch (element) {
    case 'u8': case 'u8c': return { kind: 'int', lo: 0, hi: 255 }
    case 'i8': return { kind: 'int', lo: -128, hi: 127 }
    case 'u16': return { kind: 'int', lo: 0, hi: 65535 }
    case 'i16': return { kind: 'int', lo: -32768, hi: 32767 }
    case 'i32': return fullInt
    case 'u32': case 'f32': case 'f64': return f64
  }
}

/** The type kernel parameter `index` has inside the kernel, after the runtime's coercion. */
export function paramValueType(p: ParamType, index: number): Type {
  if (p.kind === 'array') return { kind: 'array', element: p.element, origin: index }
  switch (p.type) {
    case 'i32': return fullInt
    case 'bool': return bool
    case 'f64': case 'f32': case 'u32': return f64
  }
}

/** A stable text for instance keys. */
export function typeKey(t: Type): string {
  switch (t.kind) {
    case 'int': return `int[${t.lo},${t.hi}]`
    case 'f64': return t.lo === undefined ? 'f64' : `f64[${t.lo},${t.hi}${mayBeNegZero(t) ? ',-0' : ''}]`
    case 'array': return `${t.element}[]@${t.origin}`
    default: return t.kind
  }
}
