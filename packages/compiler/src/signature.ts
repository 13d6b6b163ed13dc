// Signature strings such as `(u8c[], f64) => void`: parsing, canonical printing, and the
// typed-array constructors behind each array type. Imports nothing (the runtime uses it).

export type ScalarTypeName = 'f64' | 'f32' | 'i32' | 'u32' | 'bool'
export type ElementTypeName = 'f64' | 'f32' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8' | 'u8c'
export type ParamType = { kind: 'scalar'; type: ScalarTypeName } | { kind: 'array'; element: ElementTypeName }
export type ResultType = ScalarTypeName | 'void'

export interface Signature {
  params: ParamType[]
  /** null when the signature leaves the result to inference. */
  result: ResultType | null
}

export const scalarTypeNames: readonly ScalarTypeName[] = ['f64', 'f32', 'i32', 'u32', 'bool']
export const elementTypeNames: readonly ElementTypeName[] = ['f64', 'f32', 'i32', 'u32', 'i16', 'u16', 'i8', 'u8', 'u8c']

/** Bytes per element, and the typed-array constructor name, for each array type. */
export const elementInfo: Record<ElementTypeName, { bytes: number; ctor: string }> = {
  f64: { bytes: 8, ctor: 'Float64Array' },
  f32: { bytes: 4, ctor: 'Float32Array' },
  i32: { bytes: 4, ctor: 'Int32Array' },
  u32: { bytes: 4, ctor: 'Uint32Array' },
  i16: { bytes: 2, ctor: 'Int16Array' },
  u16: { bytes: 2, ctor: 'Uint16Array' },
  i8: { bytes: 1, ctor: 'Int8Array' },
  u8: { bytes: 1, ctor: 'Uint8Array' },
  u8c: { bytes: 1, ctor: 'Uint8ClampedArray' },
}

/** log2 of an element's size: the shift from an index to its byte offset. */
export function elementShift(element: ElementTypeName): number {
  return Math.log2(elementInfo[element].bytes)
}

export class SignatureError extends Error {}

function parseParamType(text: string, whole: string): ParamType {
  const t = text.trim()
  if (t.endsWith('[]')) {
    const element = t.slice(0, -2).trim()
    if ((elementTypeNames as readonly string[]).includes(element)) return { kind: 'array', element: element as ElementTypeName }
    throw new SignatureError(`unknown array type \`${t}\` in signature \`${whole}\`; array types are ${elementTypeNames.map((e) => e + '[]').join(', ')}`)
  }
  if ((scalarTypeNames as readonly string[]).includes(t)) return { kind: 'scalar', type: t as ScalarTypeName }
  throw new SignatureError(`unknown type \`${t}\` in signature \`${whole}\`; scalar types are ${scalarTypeNames.join(', ')}`)
}

/** Parses `(t1, t2) => r` or `(t1, t2)`; throws SignatureError with what is wrong. */
export function parseSignature(text: string): Signature {
  const m = /^\s*\(([^()]*)\)\s*(?:=>\s*([A-Za-z0-9_]+)\s*)?$/.exec(text)
  if (!m) throw new SignatureError(`signature \`${text}\` does not parse; write it as \`(f64[], f64) => void\``)
  const inner = m[1].trim()
  const params = inner === '' ? [] : inner.split(',').map((p) => parseParamType(p, text))
  let result: ResultType | null = null
  if (m[2] !== undefined) {
    if (m[2] !== 'void' && !(scalarTypeNames as readonly string[]).includes(m[2])) {
      throw new SignatureError(`unknown result type \`${m[2]}\` in signature \`${text}\`; use void or one of ${scalarTypeNames.join(', ')}`)
    }
    result = m[2] as ResultType
  }
  return { params, result }
}

export function formatParamType(p: ParamType): string {
  return p.kind === 'array' ? `${p.element}[]` : p.type
}

/** Canonical text: `(f64[], f64) => void`, or `(f64[], f64)` when the result is inferred. */
export function formatSignature(sig: Signature): string {
  const params = `(${sig.params.map(formatParamType).join(', ')})`
  return sig.result === null ? params : `${params} => ${sig.result}`
}

/** The parameter part only: what dispatch matches on. */
export function formatParams(params: readonly ParamType[]): string {
  return `(${params.map(formatParamType).join(', ')})`
}
