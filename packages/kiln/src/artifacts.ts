// Precompiled artifacts a build ships (see @kiln/vite): fetched (or read from disk under Node)
// and compiled before the module that defines the kernel finishes loading, so a kernel's first
// call already runs wasm and the page never loads the compiler.

import type { Assumptions, KernelMeta } from '@kiln/compiler'
import { variantLabel } from './loader.js'
import { simdSupported } from './features.js'
import { checksum64 } from './store/checksum.js'

export interface ArtifactRef {
  signature: string
  key: string
  meta: KernelMeta
  /** URL of the asset holding the module (the plugin writes it relative to the loading chunk). */
  url: string
  /** The module's bytes in that asset (a pack holds the artifacts of a chunk). */
  offset: number
  length: number
  /** `checksum64` of those bytes: checked before they are compiled, so a corrupt artifact never runs. */
  hash?: string
  /** A range variant of the signature: the guards a call must meet for the runtime to use it. */
  assume?: Assumptions
}

export interface AotModule {
  signature: string
  key: string
  meta: KernelMeta
  /** Null when the artifact could not be used: the signature then runs as plain JS. */
  module: WebAssembly.Module | null
  /** A range variant (see ArtifactRef): used for calls that meet its guards, the general module serves the rest. */
  assume?: Assumptions
}

export interface LoadOptions {
  /** The kernel's id, for messages. */
  id?: string
  /** Milliseconds to wait for an asset before giving up on it. @default 5000 */
  timeout?: number
}

/** Each asset is read once, however many kernels (and modules) load from it. */
const assets = new Map<string, Promise<ArrayBuffer>>()

function readAsset(url: string, timeout: number): Promise<ArrayBuffer> {
  let bytes = assets.get(url)
  if (!bytes) {
    assets.set(url, (bytes = readBytes(url, timeout)))
    bytes.catch(() => assets.delete(url))
  }
  return bytes
}

async function readBytes(url: string, timeout: number): Promise<ArrayBuffer> {
  if (url.startsWith('file:')) {
    // Through getBuiltinModule, not import(): client bundles then hold no `node:` import to warn of.
    const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule
    if (!builtin) throw new Error(`[kiln] cannot read kernel artifact ${url}: file URLs need Node ≥ 20.16`)
    const { readFile } = builtin('node:fs/promises') as typeof import('node:fs/promises')
    const { fileURLToPath } = builtin('node:url') as typeof import('node:url')
    const b = await readFile(fileURLToPath(url))
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }
  // A stalled request must not leave the page waiting: the body counts too.
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeout)
  try {
    const response = await fetch(url, { signal: abort.signal })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    return await response.arrayBuffer()
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no answer within ${timeout} ms`)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Loads and compiles a kernel's artifacts (in parallel). Used by code the plugin generates, at
 * the top level of a module, so it never rejects: an artifact that is missing, truncated,
 * corrupt (its checksum), not a valid module or too slow leaves its signature to plain JS, with
 * one console error naming the kernel, the artifact and the cause. A page never dies of it.
 */
export async function loadArtifacts(refs: ArtifactRef[], options: LoadOptions = {}): Promise<AotModule[]> {
  const timeout = options.timeout ?? 5000
  return Promise.all(refs.map(async (r): Promise<AotModule> => {
    // Built for engines with simd128 (its twin without follows it): not fetched where it is missing.
    if (r.assume?.simd && !simdSupported()) return { signature: r.signature, key: r.key, meta: r.meta, module: null, assume: r.assume }
    try {
      const asset = await readAsset(r.url, timeout)
      if (r.offset + r.length > asset.byteLength) throw new Error(`the asset is truncated (${asset.byteLength} bytes, needs ${r.offset + r.length})`)
      const bytes = new Uint8Array(asset, r.offset, r.length)
      if (r.hash !== undefined && checksum64(bytes) !== r.hash) throw new Error('its bytes are not the ones built (checksum mismatch)')
      return { signature: r.signature, key: r.key, meta: r.meta, module: await WebAssembly.compile(bytes), ...(r.assume ? { assume: r.assume } : {}) }
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error)
      const what = r.assume ? `${r.signature} [range variant ${variantLabel(r.assume)}]` : r.signature
      const fallback = r.assume ? 'the general artifact serves its calls' : 'it runs as plain JS'
      console.error(`[kiln] KILN_ARTIFACT: kernel ${options.id ?? '(unnamed)'} ${what}: cannot use the artifact ${r.url}: ${cause}; ${fallback} (rebuild and redeploy the app)`)
      return { signature: r.signature, key: r.key, meta: r.meta, module: null, ...(r.assume ? { assume: r.assume } : {}) }
    }
  }))
}

/** What the plugin passes to kernel() in place of what the runtime would otherwise work out. */
export interface PluginData {
  /** Kernel id: project-relative module path + `#` + binding. */
  id: string
  /** The kernel's source as compiled (helpers from other modules named as the kernel names them). */
  source: string
  helpers: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
  /** Present in builds: the precompiled signatures. */
  artifacts?: AotModule[]
  /** A call with a signature that was not precompiled throws instead of compiling at run time. */
  strict?: boolean
  /** Under a dev server: where to ask for signatures nobody declared (the page never loads the compiler). */
  dev?: { compile: string }
}
