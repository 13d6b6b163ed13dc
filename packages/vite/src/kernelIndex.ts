// The dependency index the dev server reads: for every module with kernels, its kernels (their
// inputs, closure of files and compiled signatures), which of its imports ordinary code uses,
// and its text outside kernel-only functions. From it, a changed file maps to the kernels it
// touches, and an edit that only kernels can see is told apart from one that needs Vite's HMR.

import type { Assumptions, KernelMeta } from '@kiln/compiler'
import type { RollupError } from 'rollup'
import type { KernelDeps } from './deps.js'
import type { KernelSite } from './discover.js'
import type { Folded } from './fold.js'
import type { EsNode, ModuleInfo } from './moduleInfo.js'

export interface CompiledSignature {
  signature: string
  key: string
  wasm: Uint8Array
  meta: KernelMeta
  /** Read from the store (or memory) rather than compiled. */
  hit: boolean
  /** Compile time (0 for a hit). */
  ms: number
  /** A range variant precompiled beside the signature's general module: its guards. */
  assume?: Assumptions
}

export interface KernelRecord {
  /** `src/filters.js#brighten`. */
  id: string
  /** The file of the module that declares it. */
  module: string
  /** Where the kernel function starts (for diagnostics of a compile the server makes later). */
  at: { line: number; column: number }
  deps: KernelDeps
  compiled: CompiledSignature[]
}

export interface ModuleRecord {
  file: string
  kernels: KernelRecord[]
  /** Every file its kernels read (itself included): an edit to one of them may change a key. */
  files: Set<string>
  /** Resolved files this module imports for code other than kernel-only functions. */
  ordinaryImports: Set<string>
  /** The module's code with kernel-only functions cut out: when it changes, the module must run again. */
  outside: string
  /** The last transform failed with this error (the previous kernels keep answering). */
  error: RollupError | null
}

/** The index of one environment (client, ssr), kept for the life of the server. */
export class KernelIndex {
  private modules = new Map<string, ModuleRecord>()

  get(file: string): ModuleRecord | undefined {
    return this.modules.get(file)
  }

  set(record: ModuleRecord): void {
    this.modules.set(record.file, record)
  }

  /** Modules with a kernel whose closure includes `file` (a module's own file included). */
  modulesReading(file: string): ModuleRecord[] {
    return [...this.modules.values()].filter((m) => m.files.has(file))
  }

  failed(): ModuleRecord[] {
    return [...this.modules.values()].filter((m) => m.error)
  }

  all(): ModuleRecord[] {
    return [...this.modules.values()]
  }

  kernel(id: string): KernelRecord | undefined {
    for (const m of this.modules.values()) {
      const k = m.kernels.find((x) => x.id === id)
      if (k) return k
    }
    return undefined
  }
}

/**
 * Kernel functions nothing else in the module can call: an inline function, or a declared one
 * named only by its `kernel()` call. Their bodies run as wasm (or as the runtime's plain twin),
 * never as this module's code, so an edit inside them needs no re-execution.
 */
export function kernelOnlyFunctions(info: ModuleInfo, sites: KernelSite[]): EsNode[] {
  const counts = identifierCounts(info.ast)
  return sites.filter((s) => {
    if (!s.cache || s.dynamic) return false
    if (s.call.arguments[0] === s.fn) return true
    const name = s.fn.type === 'FunctionDeclaration' ? s.fn.id?.name : s.call.arguments[0]?.name
    // Declared once and named once (the call): the declaration's id is not an Identifier use here.
    return Boolean(name) && counts.get(name) === 1 && !info.exports.has(name) && ![...info.exports.values()].some((e) => e.kind === 'local' && e.local === name)
  }).map((s) => s.fn)
}

/** The module's code with `ranges` cut out. */
export function codeOutside(code: string, ranges: EsNode[]): string {
  const sorted = [...ranges].sort((a, b) => a.start - b.start)
  let out = ''
  let at = 0
  for (const r of sorted) {
    out += code.slice(at, r.start)
    at = Math.max(at, r.end)
  }
  return out + code.slice(at)
}

/**
 * Import specifiers whose bindings some code outside `kernelOnly` reads, plus side-effect
 * imports and re-exports. Conservative: a name that only looks like a use still counts.
 */
export function ordinaryImportSources(info: ModuleInfo, kernelOnly: EsNode[]): Set<string> {
  const sources = new Set<string>()
  const bySource = new Map<string, Set<string>>()
  for (const [local, b] of info.imports) {
    let set = bySource.get(b.source)
    if (!set) bySource.set(b.source, (set = new Set()))
    set.add(local)
  }
  for (const node of info.ast.body) {
    if (node.type === 'ImportDeclaration' && node.specifiers.length === 0) sources.add(node.source.value)
    if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') && node.source) sources.add(node.source.value)
  }
  const skip = new Set(kernelOnly)
  const used = new Set<string>()
  const visit = (node: EsNode): void => {
    if (!node || typeof node.type !== 'string' || skip.has(node) || node.type === 'ImportDeclaration') return
    if (node.type === 'Identifier') used.add(node.name)
    for (const key in node) {
      if (key === 'start' || key === 'end') continue
      if (key === 'property' && node.type === 'MemberExpression' && !node.computed) continue
      if (key === 'key' && node.type === 'Property' && !node.computed && !node.shorthand) continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach(visit)
      else if (v && typeof v.type === 'string') visit(v)
    }
  }
  visit(info.ast)
  for (const [source, locals] of bySource) if ([...locals].some((l) => used.has(l))) sources.add(source)
  return sources
}

/** Why a kernel's inputs changed, in a few words: `helper clamp (src/lib/color.js)`, `GAIN 1.2 → 1.5`, `body`. */
export function describeChange(prev: KernelDeps | undefined, next: KernelDeps, relative: (file: string) => string): string {
  if (!prev) return 'new'
  const why: string[] = []
  if (prev.source !== next.source) why.push('body')
  for (const [name, code] of Object.entries(next.helpers)) {
    if (prev.helpers[name] === undefined) why.push(`helper ${name} added`)
    else if (prev.helpers[name] !== code) why.push(`helper ${name} (${relative(next.helperLocations[name]?.id ?? '?')})`)
  }
  for (const name of Object.keys(prev.helpers)) if (!(name in next.helpers)) why.push(`helper ${name} removed`)
  for (const [name, value] of Object.entries(next.constants)) {
    if (!(name in prev.constants)) why.push(`constant ${name} added`)
    else if (!sameFolded(prev.constants[name], value)) why.push(`${name} ${show(prev.constants[name])} → ${show(value)}`)
  }
  for (const name of Object.keys(prev.constants)) if (!(name in next.constants)) why.push(`constant ${name} removed`)
  return why.length > 0 ? why.join(', ') : 'signatures'
}

function sameFolded(a: Folded, b: Folded): boolean {
  return Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => Object.is(x, b[i])) : Object.is(a, b)
}

function show(v: Folded): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v)
}

function identifierCounts(ast: EsNode): Map<string, number> {
  const counts = new Map<string, number>()
  const visit = (node: EsNode): void => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'Identifier') counts.set(node.name, (counts.get(node.name) ?? 0) + 1)
    for (const key in node) {
      if (key === 'start' || key === 'end') continue
      // A declaration's own name is not a use of it.
      if (key === 'id' && (node.type === 'FunctionDeclaration' || node.type === 'VariableDeclarator' || node.type === 'FunctionExpression')) continue
      if (key === 'property' && node.type === 'MemberExpression' && !node.computed) continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach(visit)
      else if (v && typeof v.type === 'string') visit(v)
    }
  }
  visit(ast)
  return counts
}
