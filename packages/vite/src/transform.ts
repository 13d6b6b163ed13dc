// One module's transform: find its `cache: true` kernels, collect what each reads across files,
// compile each signature through the store, and rewrite the call sites so the kernel gets its
// id, sources, constants and artifacts. Builds get placeholders the render step turns into asset
// URLs; the dev server gets URLs of its own artifact middleware (or data URLs for code running
// in Node) and a hot-update listener. Returns the code and what the dependency index records.

import { relative } from 'node:path'
import type { Assumptions, KernelMeta, SourceText } from '@kiln/compiler'
import { variantText } from '@kiln/compiler/key'
import { parseSignature } from '@kiln/compiler/signature'
import { precompiledVariants, type FileStore } from 'kiln'
import { checksum64 } from 'kiln/checksum'
import MagicString from 'magic-string'
import type { RollupError, RollupLog, SourceMap } from 'rollup'
import { compileAhead, compiledSignature } from './aot.js'
import { collectDependencies, DependencyError, type KernelDeps, type ModuleHost } from './deps.js'
import { findKernels, type KernelSite } from './discover.js'
import { artifactPlaceholder } from './emit.js'
import { dependencyError, diagnosticError, syntaxError } from './errors.js'
import { codeOutside, kernelOnlyFunctions, ordinaryImportSources, type CompiledSignature, type KernelRecord, type ModuleRecord } from './kernelIndex.js'
import { ModuleSyntaxError, type ModuleCache } from './moduleCache.js'
import { positionOf, readModule, type EsNode, type ModuleInfo, type Parse } from './moduleInfo.js'
import type { CompilePool } from 'kiln/pool'
import type { ReportRow } from './report.js'
import { constantsLiteral, injectPluginData } from './rewrite.js'

/** A bundler error the hook reports with `this.error`. */
export class PluginError extends Error {
  constructor(public error: RollupError, readonly files: ReadonlySet<string> = new Set()) {
    super(error.message)
  }
}

/** Where the transformed module finds its compiled artifacts. */
export type ArtifactMode =
  /** A build: placeholders, placed into assets when chunks render. */
  | { kind: 'build' }
  /** A dev server's page: URLs of the server's artifact middleware; new signatures go to `compileUrl`. */
  | { kind: 'serve'; url: (key: string) => string; compileUrl: string }
  /** Code the dev server (SSR, Vitest) runs in Node: the bytes inline, as data URLs. */
  | { kind: 'inline' }

export interface TransformHost {
  root: string
  mode: ArtifactMode
  strict: boolean
  /** Milliseconds a page waits for an artifact before running its kernels as plain JS. */
  artifactTimeout: number
  wantMaps: boolean
  /** Extra signatures per kernel id (`kiln.signatures.json`). */
  signatures: Record<string, string[]>
  store: FileStore
  pool: () => CompilePool
  cache: ModuleCache
  parse: Parse
  resolve(source: string, importer: string): Promise<string | null>
  warn(warning: RollupLog): void
  addWatchFile(file: string): void
}

export interface TransformResult {
  code: string
  map: SourceMap | null
  record: ModuleRecord
  rows: ReportRow[]
}

/** Transforms a module that may have kernels; null when it has none to handle. Throws PluginError. */
export async function transformKernels(code: string, file: string, host: TransformHost): Promise<TransformResult | null> {
  let info
  try {
    info = readModule(file, code, host.parse)
  } catch {
    return null // not ours to report: the bundler's own parse will
  }
  const sites = findKernels(info).filter((s) => !isRewritten(s))
  if (sites.length === 0) return null

  const kernelOnly = kernelOnlyFunctions(info, sites)
  const record: ModuleRecord = { file, kernels: [], files: new Set([file]), ordinaryImports: new Set(), outside: codeOutside(code, kernelOnly), error: null }
  const resolve = (source: string, importer: string): Promise<string | null> => host.cache.resolve(source, importer, () => host.resolve(source, importer))
  /** One read of each file per transform: the transform works on one snapshot of its dependencies. */
  const read = new Map<string, Promise<ModuleInfo>>()
  const load: ModuleHost['load'] = async (source, importer) => {
    const path = await resolve(source, importer)
    if (!path) return null
    let info = read.get(path)
    if (!info) {
      // Watched before reading: a file that fails to parse is watched too, and fixing it re-runs this transform.
      record.files.add(path)
      host.addWatchFile(path)
      read.set(path, (info = host.cache.read(path, host.parse)))
    }
    return info
  }
  for (const source of ordinaryImportSources(info, kernelOnly)) {
    const path = await resolve(source, file)
    if (path) record.ordinaryImports.add(path)
  }
  const out = new MagicString(code)
  const preamble: string[] = []
  const rows: ReportRow[] = []
  for (const [n, site] of sites.entries()) {
    if (site.dynamic) {
      host.warn({ message: `kernel \`${site.binding}\` is left to run time: ${site.dynamic}`, id: file, loc: { file, ...positionOf(info, site.call.start) } })
      continue
    }
    if (!site.cache) continue
    const kernelId = `${relative(host.root, file).split('\\').join('/')}#${site.binding}`
    let deps
    try {
      deps = await collectDependencies(site.fn, info, { load })
    } catch (e) {
      throw asPluginError(e, record)
    }
    const at = positionOf(info, (site.fn as EsNode).start)
    const kernel: KernelRecord = { id: kernelId, module: file, at, deps, compiled: [] }
    record.kernels.push(kernel)
    const signatures = [...new Set([...site.signatures, ...(host.signatures[kernelId] ?? [])])]
    for (const signature of signatures) {
      const r = await compileAhead(host.store, host.pool(), { id: kernelId, source: { code: deps.source, file, ...at }, deps, signature })
      if (!r.ok) throw new PluginError(diagnosticError(r.result.diagnostics, r.result.sources), record.files)
      rows.push({ id: kernelId, signature, bytes: r.wasm.length, ms: r.ms, hit: r.hit })
      kernel.compiled.push(compiledSignature(signature, r))
      // Builds also ship the range variants the runtime would specialize (pages have no compiler);
      // the dev server compiles only the general module, to keep edits fast.
      if (host.mode.kind === 'build') kernel.compiled.push(...await compileVariants(host, kernelId, { code: deps.source, file, ...at }, deps, signature, r.wasm, rows))
    }
    const refs = kernel.compiled.map((c) => artifactRef(c, host.mode))
    const artifacts = `__kiln_artifacts_${n}`
    preamble.push(`const ${artifacts} = await __kilnLoadArtifacts([${refs.join(', ')}], { id: ${JSON.stringify(kernelId)}, timeout: ${host.artifactTimeout} });`)
    const dev = host.mode.kind === 'serve' ? `, dev: { compile: ${JSON.stringify(host.mode.compileUrl)} }` : ''
    const data = `{ id: ${JSON.stringify(kernelId)}, source: ${JSON.stringify(deps.source)}, helpers: ${JSON.stringify(deps.helpers)}, constants: ${constantsLiteral(deps.constants)}, strict: ${host.strict}, artifacts: ${artifacts}${dev} }`
    injectPluginData(out, site, data)
  }
  if (preamble.length > 0) {
    const lastImport = info.ast.body.filter((n: EsNode) => n.type === 'ImportDeclaration').at(-1)
    const at = lastImport ? lastImport.end : 0
    const hot = host.mode.kind === 'build' ? '' : `if (import.meta.hot) import.meta.hot.on('kiln:update', __kilnHotUpdate);\n`
    const imports = `loadArtifacts as __kilnLoadArtifacts${hot ? ', hotUpdate as __kilnHotUpdate' : ''}`
    out.appendRight(at, `\nimport { ${imports} } from 'kiln';\n${preamble.join('\n')}\n${hot}`)
  }
  if (!out.hasChanged()) return null
  return { code: out.toString(), map: host.wantMaps ? out.generateMap({ source: file, includeContent: true }) : null, record, rows }
}

/**
 * The range variants of one signature (see `precompiledVariants`), each kept only when its code
 * differs from the general module's and from the variants kept before it.
 */
async function compileVariants(host: TransformHost, id: string, source: SourceText, deps: KernelDeps, signature: string, general: Uint8Array, rows: ReportRow[]): Promise<CompiledSignature[]> {
  const kept: CompiledSignature[] = []
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])
  for (const assume of precompiledVariants(parseSignature(signature).params)) {
    const r = await compileAhead(host.store, host.pool(), { id, source, deps, signature, assume })
    // A variant the compiler rejects would only mean the general module serves its calls; one for
    // simd128 that vectorized nothing is its twin without (next).
    if (!r.ok || (assume.simd && !r.meta.simd) || same(r.wasm, general) || kept.some((k) => same(k.wasm, r.wasm))) continue
    rows.push({ id, signature: signatureLabel(signature, assume), bytes: r.wasm.length, ms: r.ms, hit: r.hit, variant: true })
    kept.push(compiledSignature(signature, r, assume))
  }
  return kept
}

/** How the manifest and the build report name a compiled signature (a variant with its guards). */
export function signatureLabel(signature: string, assume?: Assumptions): string {
  return assume ? `${signature} [${variantText(assume)}]` : signature
}

/** The literal the runtime's `loadArtifacts` gets for one compiled signature. */
export function artifactRef(c: CompiledSignature, mode: ArtifactMode): string {
  const url = mode.kind === 'build' ? artifactPlaceholder(c.key) : JSON.stringify(artifactUrl(c, mode))
  const assume = c.assume ? `, assume: ${JSON.stringify(c.assume)}` : ''
  return `{ signature: ${JSON.stringify(c.signature)}, key: ${JSON.stringify(c.key)}, meta: ${JSON.stringify(runtimeMeta(c.meta))}, hash: ${JSON.stringify(checksum64(c.wasm))}${assume}, url: ${url}${mode.kind === 'build' ? '' : `, offset: 0, length: ${c.wasm.length}`} }`
}

/** The same, as data (the dev server's hot-update event carries it). */
export function artifactData(c: CompiledSignature, mode: Exclude<ArtifactMode, { kind: 'build' }>): { signature: string; key: string; meta: ReturnType<typeof runtimeMeta>; hash: string; url: string; offset: number; length: number } {
  return { signature: c.signature, key: c.key, meta: runtimeMeta(c.meta), hash: checksum64(c.wasm), url: artifactUrl(c, mode), offset: 0, length: c.wasm.length }
}

function artifactUrl(c: CompiledSignature, mode: Exclude<ArtifactMode, { kind: 'build' }>): string {
  return mode.kind === 'serve' ? mode.url(c.key) : `data:application/wasm;base64,${Buffer.from(c.wasm).toString('base64')}`
}

/** What the runtime reads of an artifact's metadata (the rest stays in the manifest and store). */
export function runtimeMeta(meta: KernelMeta): Pick<KernelMeta, 'exportName' | 'result' | 'undefinedResult' | 'undefinedKeys' | 'constBytes' | 'speculative' | 'variant' | 'mathImports'> & { params: { written: boolean }[] } {
  return {
    exportName: meta.exportName, result: meta.result, ...(meta.undefinedResult ? { undefinedResult: true } : {}),
    ...(meta.undefinedKeys ? { undefinedKeys: meta.undefinedKeys } : {}),
    constBytes: meta.constBytes, speculative: meta.speculative, variant: meta.variant, mathImports: [], params: meta.params.map((p) => ({ written: p.written })),
  }
}

/** A failure as a bundler error, carrying the files the failed transform read (a fix in any of them retries it). */
function asPluginError(e: unknown, record: ModuleRecord): unknown {
  const error = e instanceof DependencyError ? dependencyError(e.problem) : e instanceof ModuleSyntaxError ? syntaxError(e) : null
  return error ? new PluginError(error, record.files) : e
}

/** Output of this plugin carries `__kiln` in the options: transforming it again changes nothing. */
function isRewritten(site: KernelSite): boolean {
  return site.options?.type === 'ObjectExpression' && site.options.properties.some((p: EsNode) => p.type === 'Property' && p.key?.name === '__kiln')
}
