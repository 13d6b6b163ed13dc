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
