// Ahead-of-time compiles through the persistent store: an unchanged kernel is never compiled
// again; what is compiled is stored for the next build.

import type { Assumptions, CompileResult, KernelMeta, SourceText } from '@kiln/compiler'
import { kernelKey } from '@kiln/compiler/key'
import { rawKeyText } from '@kiln/compiler/raw'
import type { FileStore } from 'kiln'
import type { KernelDeps } from './deps.js'
import type { CompiledSignature } from './kernelIndex.js'
import type { CompilePool } from 'kiln/pool'

export interface AotInput {
  id: string
  /** The kernel's source, located in its module (for diagnostics). */
  source: SourceText
  deps: KernelDeps
  signature: string
  /** A range variant's guards (see `precompiledVariants`); absent for the general module. */
  assume?: Assumptions
}

export type AotResult =
  | { ok: true; key: string; wasm: Uint8Array; meta: KernelMeta; hit: boolean; ms: number }
  | { ok: false; result: Extract<CompileResult, { ok: false }> }

export async function compileAhead(store: FileStore, pool: CompilePool, input: AotInput): Promise<AotResult> {
  const started = performance.now()
  // The store's alias of the exact inputs names the key without parsing (a warm build).
  const raw = rawKeyText({ source: input.deps.source, deps: input.deps.helpers, constants: input.deps.constants, signature: input.signature, assume: input.assume })
  const aliased = store.aliasGet(raw)
  const found = aliased ? store.getSync(aliased) : { entry: null }
  if (aliased && found.entry) return { ok: true, key: aliased, wasm: found.entry.wasm, meta: found.entry.meta, hit: true, ms: performance.now() - started }
  const { key, parts } = kernelKey({ source: input.deps.source, deps: input.deps.helpers, constants: input.deps.constants, signature: input.signature, assume: input.assume })
  const stored = aliased === key ? found : store.getSync(key)
  store.aliasPut(raw, key)
  if (stored.entry) return { ok: true, key, wasm: stored.entry.wasm, meta: stored.entry.meta, hit: true, ms: performance.now() - started }
  // Helpers go in located, so a diagnostic in one points at its own file, line and column.
  const helpers: Record<string, SourceText> = {}
  for (const [name, code] of Object.entries(input.deps.helpers)) {
    const at = input.deps.helperLocations[name]
    helpers[name] = { code, file: at?.id ?? name, line: at?.line, column: at?.column }
  }
  const { result, ms } = await pool.compile({ source: { ...input.source, code: input.deps.source }, name: input.id, deps: helpers, constants: input.deps.constants, signature: input.signature, assume: input.assume })
  if (!result.ok) return { ok: false, result }
  store.putSync({
    key, id: input.id, parts, meta: result.meta, wasm: result.wasm,
    recipe: { source: input.deps.source, deps: input.deps.helpers, constants: input.deps.constants, signature: input.signature, assume: input.assume },
  })
  return { ok: true, key, wasm: result.wasm, meta: result.meta, hit: false, ms }
}

/** A successful result as the dependency index keeps it for one signature. */
export function compiledSignature(signature: string, r: Extract<AotResult, { ok: true }>, assume?: Assumptions): CompiledSignature {
  return { signature, key: r.key, wasm: r.wasm, meta: r.meta, hit: r.hit, ms: r.hit ? 0 : r.ms, ...(assume ? { assume } : {}) }
}
