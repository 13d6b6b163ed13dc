// The pipeline entry: kernel source + helper sources + constants + signature → wasm bytes and
// metadata, or diagnostics. It only chains the passes: parse → resolve → infer → emit.

import binaryen from 'binaryen'
import { diagnostic, type Diagnostic, type SourceText } from './diagnostics.js'
import { emitWasm } from './emit.js'
import { inferTypes, type ConstValue } from './infer.js'
import { variantText } from './key.js'
import { parseFunction } from './parse.js'
import { findRecursion, resolveNames, type ResolvedFunction } from './resolve.js'
import { formatSignature, parseSignature, SignatureError, type ParamType, type ResultType, type Signature } from './signature.js'
import { MAX_LENGTH, mayBeUndefined, paramValueType, type Type } from './types.js'
import { compilerIdentity, DEFAULT_OPTIMIZE_LEVEL, type CompilerIdentity } from './version.js'

/** Statements and expressions a kernel and its helpers may have (about 2,500 unrolled statements like `s = s + a[i] * c`). */
export const MAX_NODES = 20_000

export type ConstantInput = number | boolean | readonly number[] | ArrayLike<number>

export interface CompileInput {
  /** The kernel function's source text (`fn.toString()`), or a located slice of a module. */
  source: string | SourceText
  /** The kernel's name, used as the file label of a bare source string. @default 'kernel' */
  name?: string
  /** Helper functions the kernel (or another helper) calls, by the name it calls them. */
  deps?: Record<string, string | SourceText>
  /** Module-scope constants the kernel reads: numbers, booleans, arrays of numbers. */
  constants?: Record<string, ConstantInput>
  /** The signature to compile for, e.g. `(f64[], f64) => void`. */
  signature: string
  /** binaryen optimization level. @default 3 */
  optimizeLevel?: number
  /**
   * Facts the caller guarantees for every call of this module (a specialized variant): the
   * runtime checks them before each call and uses another variant when they do not hold.
   */
  assume?: Assumptions
}

/** Guarded value ranges a variant is compiled under. */
export interface Assumptions {
  /** Every array argument's length is at most this. @default MAX_LENGTH (any) */
  maxLength?: number
  /** Per parameter: numeric scalars known to be integers in [lo, hi], or null. */
  intRanges?: ([number, number] | null)[]
  /**
   * Loads from integer arrays are compiled as in bounds and trap when they are not; the caller
   * must be able to undo the call (see the runtime). `meta.speculative` says whether any load
   * was compiled so. @default false
   */
  trapOutOfBounds?: boolean
  /**
   * The engine runs wasm simd128: independent loop iterations may run two at a time
   * (vectorize.ts). `meta.simd` says whether any did. @default false
   */
  simd?: boolean
}

export interface ParamMeta {
  name: string
  /** Signature type text, e.g. `f64[]` or `i32`. */
  type: string
  /** wasm parameters this one occupies at the export. */
  abi: ('i32' | 'f32' | 'f64')[]
  /** Arrays only: whether the kernel reads / writes it (writes are copied back). */
  read: boolean
  written: boolean
}

export interface KernelMeta {
  exportName: 'kernel'
  /** Canonical signature, result included. */
  signature: string
  params: ParamMeta[]
  /** The declared result, or the inferred one (`f64` for numbers). */
  result: ResultType
  /** Whether the declared result converts the wasm value (i32, u32, f32). */
  mathImports: string[]
  /** Bytes of constant-array data; nonzero means the module exports `__kiln_init(base)`. */
  constBytes: number
  /**
   * Array parameters whose property named "undefined" the kernel reads or writes (`a[i]` with
   * an `i` that may be undefined, as JS does on a typed array): the runtime passes each one's
   * property in and out through the module's globals `__kiln_undefined_state_<i>` (0 absent,
   * 1 a number, 2 undefined) and `__kiln_undefined_value_<i>`. Absent when none.
   */
  undefinedKeys?: number[]
  /**
   * The result may be `undefined` (a path returns nothing, or an out-of-bounds read is
   * returned): for a number result the module's global `__kiln_undefined` says whether the
   * last call's result was; a boolean result is 0, 1, or 2 for undefined.
   */
  undefinedResult?: boolean
  /** The guarded ranges this variant assumes ('' for the general module). */
  variant: string
  /**
   * Whether the module may trap on speculation (compiled with `trapOutOfBounds`, and it
   * mattered): a load out of bounds, or integer arithmetic whose JS result is not an int32.
   */
  speculative: boolean
  /** Whether the module uses wasm simd128 (compiled with `simd`, and some loop qualified). */
  simd?: boolean
  compiler: CompilerIdentity
}

export type CompileResult =
  | { ok: true; wasm: Uint8Array; meta: KernelMeta; diagnostics: Diagnostic[]; sources: SourceText[] }
  | { ok: false; diagnostics: Diagnostic[]; sources: SourceText[] }

function toSource(s: string | SourceText, file: string): SourceText {
  return typeof s === 'string' ? { code: s, file } : s
}

/** Validates constant inputs; arrays and typed arrays become plain number arrays. */
export function normalizeConstants(input: Record<string, ConstantInput> | undefined, out: Diagnostic[]): Map<string, ConstValue> {
  const constants = new Map<string, ConstValue>()
  for (const [name, v] of Object.entries(input ?? {})) {
    if (typeof v === 'number' || typeof v === 'boolean') constants.set(name, v)
    else if (v !== null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number' && Array.from(v as ArrayLike<number>).every((x) => typeof x === 'number')) {
      constants.set(name, Array.from(v as ArrayLike<number>))
    } else {
      out.push(diagnostic('KILN_BAD_CONSTANT', `dependency \`${name}\` is ${describeValue(v)}, which cannot be folded into a constant`, null, [
        'constants must be numbers, booleans or arrays of numbers; pass anything else as an argument',
      ]))
    }
  }
  return constants
}

function describeValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array with non-number elements'
  return `a ${typeof v}`
}

export function compileKernel(input: CompileInput): CompileResult {
  try {
    return compileChecked(input)
  } catch (error) {
    // Deep nesting exhausts some pass's recursion (ours, acorn's or binaryen's): a size problem, said as one.
    if (!(error instanceof RangeError)) throw error
    const file = input.name ?? 'kernel'
    return {
      ok: false,
      sources: [toSource(input.source, file)],
      diagnostics: [diagnostic('KILN_TOO_LARGE', `\`${file}\` is too deeply nested or too long to compile (${error.message})`, { file, start: 0, end: 1 }, ['split long expressions and chains of statements, or use a loop'])],
    }
  }
}

function compileChecked(input: CompileInput): CompileResult {
  const kernelFile = input.name ?? 'kernel'
  const kernelSource = toSource(input.source, kernelFile)
  const sources: SourceText[] = [kernelSource]
  const diagnostics: Diagnostic[] = []
  const fail = (): CompileResult => ({ ok: false, diagnostics, sources })

  let signature: Signature
  try {
    signature = parseSignature(input.signature)
  } catch (e) {
    if (!(e instanceof SignatureError)) throw e
    diagnostics.push(diagnostic('KILN_SIGNATURE', e.message, null))
    return fail()
  }

  const constants = normalizeConstants(input.constants, diagnostics)
  const helperSources = new Map<string, SourceText>()
  for (const [name, src] of Object.entries(input.deps ?? {})) helperSources.set(name, toSource(src, name))
  const program = { helpers: new Set(helperSources.keys()), constants: new Set(constants.keys()) }

  const parsed = parseFunction(kernelSource)
  diagnostics.push(...parsed.diagnostics)
  let size = parsed.nodes
  if (!parsed.fn) return fail()
  const kernel = resolveNames(kernelFile, parsed.fn, program, diagnostics)

  // Resolve only the helpers the kernel reaches, so an unused dependency cannot fail it.
  const helpers = new Map<string, ResolvedFunction>()
  const queue = [...kernel.calls]
  while (queue.length > 0) {
    const name = queue.shift()!
    if (helpers.has(name)) continue
    const src = helperSources.get(name)!
    if (!sources.includes(src)) sources.push(src)
    const p = parseFunction(src)
    diagnostics.push(...p.diagnostics)
    size += p.nodes
    if (!p.fn) continue
    const r = resolveNames(name, p.fn, program, diagnostics)
    helpers.set(name, r)
    queue.push(...r.calls)
  }
  const cycle = findRecursion(kernelFile, (n) => (n === kernelFile ? kernel.calls : helpers.get(n)?.calls ?? new Set()))
  if (cycle) {
    const first = helpers.get(cycle[0])
    diagnostics.push(diagnostic('KILN_RECURSION', `recursive helper calls are outside the kernel language: ${cycle.join(' → ')}`, first ? first.fn.span : null, [
      'rewrite the recursion as a loop',
    ]))
  }
  if (signature.params.length !== parsed.fn.params.length) {
    diagnostics.push(diagnostic('KILN_ARITY', `signature \`${formatSignature(signature)}\` has ${signature.params.length} parameter(s) but the kernel takes ${parsed.fn.params.length}`, parsed.fn.span))
  }
  if (size > MAX_NODES) {
    diagnostics.push(diagnostic('KILN_TOO_LARGE', `\`${kernel.name || kernelFile}\` and its helpers have ${size} statements and expressions; kernels are limited to ${MAX_NODES}, which already take seconds to optimize`, parsed.fn.span, [
      'repeat work with a loop over an array of coefficients instead of unrolled statements',
    ]))
  }
  if (diagnostics.length > 0) return fail()

  const params: Type[] = signature.params.map((p, i) => {
    const range = input.assume?.intRanges?.[i]
    return range && p.kind === 'scalar' && p.type !== 'bool' ? { kind: 'int', lo: range[0], hi: range[1] } : paramValueType(p, i)
  })
  const maxLength = input.assume?.maxLength ?? MAX_LENGTH
  const trapOutOfBounds = input.assume?.trapOutOfBounds ?? false
  const { root, instances } = inferTypes(kernel, params, { helpers, constants, maxLength, trapOutOfBounds }, diagnostics)
  const result = checkResult(signature, root.result, kernel, diagnostics)
  if (diagnostics.length > 0) return fail()

  const optimizeLevel = input.optimizeLevel ?? DEFAULT_OPTIMIZE_LEVEL
  const rootAbi = signature.params.map(abiOf)
  const out = emitWasm({ instances, root, rootAbi, constants, optimizeLevel, simd: input.assume?.simd ?? false })
  const meta: KernelMeta = {
    exportName: 'kernel',
    signature: formatSignature({ params: signature.params, result }),
    params: signature.params.map((p, i) => ({
      name: parsed.fn!.params[i].name,
      type: p.kind === 'array' ? `${p.element}[]` : p.type,
      abi: rootAbi[i].map((t) => (t === binaryen.f64 ? 'f64' : t === binaryen.f32 ? 'f32' : 'i32')),
      read: out.arrayAccess[i].read,
      written: out.arrayAccess[i].written,
    })),
    result,
    ...(mayBeUndefined(root.result) && result !== 'void' ? { undefinedResult: true } : {}),
    mathImports: out.mathImports,
    constBytes: out.constBytes,
    ...(out.undefinedKeys.length > 0 ? { undefinedKeys: out.undefinedKeys } : {}),
    variant: variantText(input.assume),
    speculative: instances.some((i) => i.speculated.size > 0 || i.checked.size > 0),
    ...(out.simd ? { simd: true } : {}),
    compiler: compilerIdentity(optimizeLevel),
  }
  return { ok: true, wasm: out.wasm, meta, diagnostics: [], sources }
}

/** wasm parameters of a kernel parameter at the export. */
function abiOf(p: ParamType): binaryen.Type[] {
  if (p.kind === 'array') return [binaryen.i32, binaryen.i32]
  switch (p.type) {
    case 'f64': case 'u32': return [binaryen.f64]
    case 'f32': return [binaryen.f32]
    case 'i32': case 'bool': return [binaryen.i32]
  }
}

/** The kernel's result type: declared and checked against inference, or inferred. */
function checkResult(sig: Signature, inferred: Type, kernel: ResolvedFunction, out: Diagnostic[]): ResultType {
  const natural: ResultType = inferred.kind === 'bool' || inferred.kind === 'maybeBool' ? 'bool' : inferred.kind === 'void' || inferred.kind === 'undef' ? 'void' : 'f64'
  if (sig.result === null || sig.result === 'void') return sig.result ?? natural
  const fits = sig.result === 'bool' ? natural === 'bool' : natural === 'f64'
  if (!fits) {
    out.push(diagnostic('KILN_RETURN_TYPE', `the signature declares a ${sig.result} result but \`${kernel.name}\` returns ${natural === 'void' ? 'nothing' : natural === 'bool' ? 'a boolean' : 'a number'}`, kernel.fn.span, [
      `declare \`=> ${natural}\`, or change what the kernel returns`,
    ]))
  }
  return sig.result
}
