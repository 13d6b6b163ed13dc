// The cache key: one sha256 per kernel × signature over a canonical encoding of the compiler
// identity, the signature, the kernel's normalized AST, every helper it reaches (transitively)
// and the values of the constants they read. No paths, positions, comments or data.
// Imports acorn and a hash only, never binaryen, so computing a key never loads the compiler.

import { parse } from 'acorn'
import { sha256 } from '@noble/hashes/sha2'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils'
import type { SourceText } from './diagnostics.js'
import { isSsrNamespace } from './ssr.js'
import { formatSignature, parseSignature } from './signature.js'
import { compilerIdentity, DEFAULT_OPTIMIZE_LEVEL, type CompilerIdentity } from './version.js'

export interface KeyInput {
  source: string | SourceText
  deps?: Record<string, string | SourceText>
  constants?: Record<string, number | boolean | readonly number[] | ArrayLike<number>>
  signature: string
  optimizeLevel?: number
  /** The guarded ranges of a specialized variant (see compileKernel's `assume`). */
  assume?: { maxLength?: number; intRanges?: ([number, number] | null)[]; trapOutOfBounds?: boolean; simd?: boolean }
  /** Overrides of the compiler identity, for tools that reason about other compilers. */
  compiler?: Partial<CompilerIdentity>
}

/** The parts a key is made of, kept with each stored entry so a miss can be explained. */
export interface KeyParts {
  compiler: CompilerIdentity
  signature: string
  /** Hash of the kernel's normalized AST. */
  kernel: string
  /** Helper name → hash of its normalized AST, for every helper reached. */
  helpers: Record<string, string>
  /** Constant name → canonical value text, for every constant read. */
  constants: Record<string, string>
  /** The variant's guarded ranges, or '' for the general module. */
  variant: string
}

export interface KernelKey {
  key: string
  parts: KeyParts
}

const positionKeys = new Set(['start', 'end', 'loc', 'range', 'raw'])

/** Recent normalizations by source text: a build keys many kernels that share helpers. */
const memo = new Map<string, { text: string; names: Set<string> }>()
const MEMO_LIMIT = 2048

/** Canonical JSON of a function's AST: positions, comments, whitespace and raw text dropped. */
export function normalizedAst(code: string): { text: string; names: Set<string> } {
  const hit = memo.get(code)
  if (hit) return hit
  const result = normalize(code)
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!)
  memo.set(code, result)
  return result
}

function normalize(code: string): { text: string; names: Set<string> } {
  let ast
  try {
    ast = parse(`(${code})`, { ecmaVersion: 'latest', sourceType: 'module' })
  } catch {
    // Not a function expression (the compiler says why, with a code): keyed by its exact text.
    return { text: JSON.stringify({ unparsed: code }), names: new Set() }
  }
  const names = new Set<string>()
  const text = JSON.stringify(ast, (k, v) => {
    if (positionKeys.has(k)) return undefined
    if (v && typeof v === 'object') v = seeThroughSsr(v)
    if (v && typeof v === 'object' && v.type === 'Identifier') names.add(v.name)
    // Numbers as objects: as strings they would equal string literals of the same digits.
    if (typeof v === 'number') return { number: canonicalNumber(v) }
    if (typeof v === 'bigint') return `${v}n`
    return v
  })
  return { text, names }
}

/** `ns.name` and `(0, ns.name)` from Vite's SSR transform normalize to the plain name. */
function seeThroughSsr(v: { type?: string; [k: string]: unknown }): unknown {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const n = v as any
  if (n.type === 'SequenceExpression' && n.expressions.length === 2 && n.expressions[0].type === 'Literal' && n.expressions[0].value === 0) {
    return seeThroughSsr(n.expressions[1])
  }
  if (n.type === 'MemberExpression' && !n.computed && n.object.type === 'Identifier' && isSsrNamespace(n.object.name)) {
    return { type: 'Identifier', name: n.property.name }
  }
  return v
}

function canonicalNumber(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v)
}

/** Canonical text of a constant value (distinguishes -0, NaN and array elements exactly). */
export function canonicalConstant(v: number | boolean | readonly number[] | ArrayLike<number>): string {
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number') return canonicalNumber(v)
  return `[${Array.from(v as ArrayLike<number>, canonicalNumber).join(',')}]`
}

export function hashText(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)))
}

const codeOf = (s: string | SourceText): string => (typeof s === 'string' ? s : s.code)

export function kernelKey(input: KeyInput): KernelKey {
  const kernel = normalizedAst(codeOf(input.source))
  const helpers: Record<string, string> = {}
  const constants: Record<string, string> = {}
  const deps = input.deps ?? {}
  const consts = input.constants ?? {}
  const visit = (names: Set<string>): void => {
    for (const n of [...names].sort()) {
      if (Object.hasOwn(deps, n) && !Object.hasOwn(helpers, n)) {
        const h = normalizedAst(codeOf(deps[n]))
        helpers[n] = hashText(h.text)
        visit(h.names)
      } else if (Object.hasOwn(consts, n) && !Object.hasOwn(constants, n)) {
        constants[n] = canonicalConstant(consts[n])
      }
    }
  }
  visit(kernel.names)
  const parts: KeyParts = {
    compiler: { ...compilerIdentity(input.optimizeLevel ?? DEFAULT_OPTIMIZE_LEVEL), ...input.compiler },
    signature: formatSignature(parseSignature(input.signature)),
    kernel: hashText(kernel.text),
    helpers: sortObject(helpers),
    constants: sortObject(constants),
    variant: variantText(input.assume),
  }
  return { key: hashText(JSON.stringify(parts)), parts }
}

/** Canonical text of a variant's assumptions: `len≤16777216 p1∈[0,1024]`. */
export function variantText(assume: KeyInput['assume']): string {
  if (!assume) return ''
  const parts: string[] = []
  if (assume.maxLength !== undefined) parts.push(`len≤${assume.maxLength}`)
  assume.intRanges?.forEach((r, i) => r && parts.push(`p${i}∈[${r[0]},${r[1]}]`))
  if (assume.trapOutOfBounds) parts.push('trap-oob')
  if (assume.simd) parts.push('simd')
  return parts.join(' ')
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
