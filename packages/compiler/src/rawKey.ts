// The exact inputs of a cache key (texts, not ASTs) plus the compiler identity, as one text.
// The same raw text always yields the same key, so stores keep aliases raw text → key and a
// warm start or build skips parsing. Imports nothing heavy (no acorn): warm paths load it.

import { compilerIdentity } from './version.js'

export interface RawKeyInput {
  source: string
  deps: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
  signature: string
  assume?: unknown
}

export function rawKeyText(input: RawKeyInput): string {
  const sorted = <T>(o: Record<string, T>): [string, T][] => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(
    [compilerIdentity(), input.source, sorted(input.deps), sorted(input.constants), input.signature, input.assume ?? null],
    // JSON cannot tell -0 or NaN apart from 0 or null; the key does.
    (_, v) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v),
  )
}
