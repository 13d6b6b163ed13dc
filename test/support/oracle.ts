// The plain-JS oracle: runs a kernel's function as JS with the signature's coercions, and
// compares results exactly (f64 bit patterns aside from NaN payloads, -0 distinct from 0).

import { parseSignature } from '@kiln/compiler/signature'

export type Value = number | boolean | undefined | ArrayBufferView

export function cloneArgs(args: readonly unknown[]): unknown[] {
  return args.map((a) => (ArrayBuffer.isView(a) ? (a as unknown as { slice(): unknown }).slice() : a))
}

/** Runs `fn` as JS on the arguments coerced as the signature says; coerces the result too. */
export function runPlain(fn: (...a: unknown[]) => unknown, signature: string, args: unknown[]): unknown {
  const sig = parseSignature(signature)
  const coerced = args.map((a, i) => {
    const p = sig.params[i]
    if (p?.kind !== 'scalar') return a
    if (p.type === 'i32') return (a as number) | 0
    if (p.type === 'u32') return (a as number) >>> 0
    if (p.type === 'f32') return Math.fround(a as number)
    return a
  })
  const r = fn(...coerced)
  switch (sig.result) {
    case 'i32': return (r as number) | 0
    case 'u32': return (r as number) >>> 0
    case 'f32': return Math.fround(r as number)
    case 'void': return undefined
    default: return r
  }
}

/** Describes the first difference between two values, or returns null when identical. */
export function difference(expected: unknown, actual: unknown, path = 'value'): string | null {
  if (ArrayBuffer.isView(expected)) {
    const e = expected as unknown as ArrayLike<number>
    const a = actual as unknown as ArrayLike<number>
    if (!ArrayBuffer.isView(actual) || e.length !== a.length) return `${path}: shape differs`
    for (let i = 0; i < e.length; i++) {
      if (!Object.is(e[i], a[i])) return `${path}[${i}]: expected ${String(e[i])}, got ${String(a[i])}`
    }
    return null
  }
  return Object.is(expected, actual) ? null : `${path}: expected ${String(expected)}, got ${String(actual)}`
}

export function differences(expected: readonly unknown[], actual: readonly unknown[]): string[] {
  const out: string[] = []
  expected.forEach((e, i) => {
    const d = difference(e, actual[i], `argument ${i + 1}`)
    if (d) out.push(d)
  })
  return out
}
