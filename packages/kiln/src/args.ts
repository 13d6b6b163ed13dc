// Call arguments ↔ signatures: the parameter types a call's arguments have (for lazy
// specialization), whether they fit a signature, and the coercions a signature implies.

import { elementInfo, formatParams, type ElementTypeName, type ParamType, type ResultType } from '@kiln/compiler/signature'
import { KilnError } from './errors.js'

const elementOfCtor = new Map<unknown, ElementTypeName>(
  (Object.entries(elementInfo) as [ElementTypeName, { ctor: string }][]).map(([e, { ctor }]) => [(globalThis as Record<string, unknown>)[ctor], e]),
)
const ctorOfElement = new Map<ElementTypeName, unknown>([...elementOfCtor].map(([c, e]) => [e, c]))

function describeArg(a: unknown): string {
  if (a === null) return 'null'
  if (typeof a === 'object') return (a as object).constructor?.name ?? 'an object'
  return typeof a
}

/** Parameter types of a call, by the rule: number → f64, boolean → bool, typed arrays by constructor. */
export function detectParams(args: readonly unknown[]): ParamType[] | string {
  const params: ParamType[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (typeof a === 'number') params.push({ kind: 'scalar', type: 'f64' })
    else if (typeof a === 'boolean') params.push({ kind: 'scalar', type: 'bool' })
    else {
      const element = a === null || typeof a !== 'object' ? undefined : elementOfCtor.get((a as object).constructor)
      if (!element) return `argument ${i + 1} is ${describeArg(a)}; kernels take numbers, booleans and typed arrays`
      params.push({ kind: 'array', element })
    }
  }
  return params
}

/** Whether the arguments fit these parameters (numbers for numeric scalars, exact typed-array classes). */
export function argsMatch(params: readonly ParamType[], args: readonly unknown[]): boolean {
  if (args.length !== params.length) return false
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    const a = args[i]
    if (p.kind === 'array') {
      if (a === null || typeof a !== 'object' || (a as object).constructor !== ctorOfElement.get(p.element)) return false
    } else if (p.type === 'bool' ? typeof a !== 'boolean' : typeof a !== 'number') {
      return false
    }
  }
  return true
}

/** Coerces scalar arguments in place to the declared types (both tiers see the same values). */
export function coerceArgs(params: readonly ParamType[], args: unknown[]): void {
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    if (p.kind !== 'scalar') continue
    switch (p.type) {
      case 'f32': args[i] = Math.fround(args[i] as number); break
      case 'i32': args[i] = (args[i] as number) | 0; break
      case 'u32': args[i] = (args[i] as number) >>> 0; break
      case 'f64': case 'bool': break
    }
  }
}

/** Whether any scalar needs coercion (lets calls skip `coerceArgs`). */
export function needsCoercion(params: readonly ParamType[]): boolean {
  return params.some((p) => p.kind === 'scalar' && (p.type === 'f32' || p.type === 'i32' || p.type === 'u32'))
}

/** The declared result type's conversion of a returned value. */
export function coerceResult(result: ResultType | null, value: unknown): unknown {
  switch (result) {
    case 'i32': return (value as number) | 0
    case 'u32': return (value as number) >>> 0
    case 'f32': return Math.fround(value as number)
    // wasm gives a boolean as an i32 0 or 1; JS gives true or false.
    case 'bool': return typeof value === 'boolean' || value === undefined ? value : value !== 0
    case 'void': return undefined
    default: return value
  }
}

export function noSignatureError(id: string, args: readonly unknown[], signatures: readonly string[], reason: string): KilnError {
  const given = `(${args.map(describeArg).join(', ')})`
  return KilnError.of('KILN_NO_SIGNATURE', `kernel ${id} cannot run on ${given}: ${reason}`, [
    signatures.length ? `its signatures are: ${signatures.join('; ')}` : 'it has no signatures yet',
  ])
}

export { formatParams }

/** Arrays longer than this run the general module (2^24 elements). */
export const VARIANT_MAX_LENGTH = 16777216
/**
 * Integer range buckets of numeric scalars, by variant class digit: [lo, hi] (digit 0: none).
 * Positive ranges start at 1 and zero is a class of its own, so a width, a count or a stride
 * is never 0 in its variant: `n / width` and `i < len / (4 * width)` then have finite bounds.
 */
const INT_RANGES: readonly (readonly [number, number])[] = [
  [0, 0], [1, 1024], [1, 65536], [1, 16777216], [-1024, 1024], [-65536, 65536], [-16777216, 16777216], [0, 0],
]

/**
 * The variant class of a call: per numeric scalar, the smallest integer range holding it
 * (digit 0: not a small integer), packed base 8. -1 when an array is too long for variants.
 * Compiled variants assume these ranges, so the runtime checks them before every call.
 */
export function variantClass(params: readonly ParamType[], args: readonly unknown[]): number {
  let cls = 0
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    if (p.kind === 'array') {
      if ((args[i] as ArrayLike<number>).length > VARIANT_MAX_LENGTH) return -1
      continue
    }
    if (p.type === 'bool') continue
    const v = args[i] as number
    let digit = 0
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v === 0) digit = 7
      else if (v > 0) digit = v <= 1024 ? 1 : v <= 65536 ? 2 : v <= 16777216 ? 3 : 0
      else digit = v >= -1024 ? 4 : v >= -65536 ? 5 : v >= -16777216 ? 6 : 0
    }
    cls = cls * 8 + digit
  }
  return cls
}

/** The assumptions a variant class stands for. */
export function variantAssumptions(params: readonly ParamType[], cls: number): { maxLength: number; intRanges: ([number, number] | null)[] } {
  const digits: number[] = []
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i]
    if (p.kind === 'scalar' && p.type !== 'bool') {
      digits[i] = cls % 8
      cls = Math.floor(cls / 8)
    }
  }
  return { maxLength: VARIANT_MAX_LENGTH, intRanges: params.map((_, i) => (digits[i] ? [INT_RANGES[digits[i]][0], INT_RANGES[digits[i]][1]] : null)) }
}

/**
 * The range variants a build precompiles beside each signature's general artifact, most
 * specific first (the runtime uses the first whose guards a call meets; a page has no compiler
 * to build them): when the kernel takes numeric scalars, every one an integer in [1, 1024], then
 * in [1, 65536]; when only some are declared integers (`(u8c[], i32, f64)`: a width and a
 * scale), those in [1, 65536]; and arrays up to VARIANT_MAX_LENGTH with scalars as they come.
 * All speculate that integer loads are in bounds: after a trap, the general artifact serves the
 * call. Each comes first for engines with wasm simd128, then without (the runtime skips the
 * first where simd128 is missing). (The build drops a variant whose code is the same as one
 * before it, and a simd128 one that vectorized nothing.)
 */
export function precompiledVariants(params: readonly ParamType[]): { maxLength: number; intRanges: ([number, number] | null)[]; trapOutOfBounds: boolean; simd?: boolean }[] {
  const numeric = params.map((p) => p.kind === 'scalar' && p.type !== 'bool')
  const integer = params.map((p) => p.kind === 'scalar' && (p.type === 'i32' || p.type === 'u32'))
  const ranged = (which: boolean[], r: [number, number]) => ({ maxLength: VARIANT_MAX_LENGTH, intRanges: which.map((n) => (n ? r : null)), trapOutOfBounds: true })
  const out = []
  if (numeric.some(Boolean)) out.push(ranged(numeric, [1, 1024]), ranged(numeric, [1, 65536]))
  if (integer.some(Boolean) && integer.some((x, i) => x !== numeric[i])) out.push(ranged(integer, [1, 65536]))
  out.push(ranged(params.map(() => false), [0, 0]))
  return out.flatMap((a) => [{ ...a, simd: true }, a])
}
