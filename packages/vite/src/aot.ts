// Ahead-of-time compiles through the persistent store: an unchanged kernel is never compiled
// again; what is compiled is stored for the next build.

import { compileKernel, kernelKey, type CompileResult, type KernelMeta, type SourceText } from '@kiln/compiler'
import type { FileStore } from 'kiln'
import type { KernelDeps } from './deps.js'

export interface AotInput {
  id: string
  /** The kernel's source, located in its module (for diagnostics). */
  source: SourceText
  deps: KernelDeps
  signature: string
}

export type AotResult =
  | { ok: true; key: string; wasm: Uint8Array; meta: KernelMeta; hit: boolean; ms: number }
  | { ok: false; result: Extract<CompileResult, { ok: false }> }

export function compileAhead(store: FileStore, input: AotInput): AotResult {
  const started = performance.now()
  const { key, parts } = kernelKey({ source: input.deps.source, deps: input.deps.helpers, constants: input.deps.constants, signature: input.signature })
  const found = store.getSync(key)
  if (found.entry) return { ok: true, key, wasm: found.entry.wasm, meta: found.entry.meta, hit: true, ms: performance.now() - started }
  // Helpers go in located, so a diagnostic in one points at its own file, line and column.
  const helpers: Record<string, SourceText> = {}
  for (const [name, code] of Object.entries(input.deps.helpers)) {
    const at = input.deps.helperLocations[name]
    helpers[name] = { code, file: at?.id ?? name, line: at?.line, column: at?.column }
  }
  const result = compileKernel({ source: { ...input.source, code: input.deps.source }, name: input.id, deps: helpers, constants: input.deps.constants, signature: input.signature })
  if (!result.ok) return { ok: false, result }
  store.putSync({
    key, id: input.id, parts, meta: result.meta, wasm: result.wasm,
    recipe: { source: input.deps.source, deps: input.deps.helpers, constants: input.deps.constants, signature: input.signature },
  })
  return { ok: true, key, wasm: result.wasm, meta: result.meta, hit: false, ms: performance.now() - started }
}
