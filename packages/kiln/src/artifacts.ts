// Precompiled artifacts a build ships (see @kiln/vite): fetched (or read from disk under Node)
// and compiled before the module that defines the kernel finishes loading, so a kernel's first
// call already runs wasm and the page never loads the compiler.

import type { KernelMeta } from '@kiln/compiler'

export interface ArtifactRef {
  signature: string
  key: string
  meta: KernelMeta
  /** URL of the asset holding the module (the plugin writes it relative to the loading chunk). */
  url: string
  /** The module's bytes in that asset (a pack holds the artifacts of a chunk). */
  offset: number
  length: number
}

export interface AotModule {
  signature: string
  key: string
  meta: KernelMeta
  module: WebAssembly.Module
}

/** Each asset is read once, however many kernels (and modules) load from it. */
const assets = new Map<string, Promise<ArrayBuffer>>()

function readAsset(url: string): Promise<ArrayBuffer> {
  let bytes = assets.get(url)
  if (!bytes) {
    assets.set(url, (bytes = readBytes(url)))
    bytes.catch(() => assets.delete(url))
  }
  return bytes
}

async function readBytes(url: string): Promise<ArrayBuffer> {
  if (url.startsWith('file:')) {
    // Through getBuiltinModule, not import(): client bundles then hold no `node:` import to warn of.
    const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule
    if (!builtin) throw new Error(`[kiln] cannot read kernel artifact ${url}: file URLs need Node ≥ 20.16`)
    const { readFile } = builtin('node:fs/promises') as typeof import('node:fs/promises')
    const { fileURLToPath } = builtin('node:url') as typeof import('node:url')
    const b = await readFile(fileURLToPath(url))
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }
  const response = await fetch(url)
  if (!response.ok) throw new Error(`[kiln] cannot load kernel artifact ${url}: HTTP ${response.status}`)
  return response.arrayBuffer()
}

/** Loads and compiles a kernel's artifacts (in parallel). Used by code the plugin generates. */
export async function loadArtifacts(refs: ArtifactRef[]): Promise<AotModule[]> {
  return Promise.all(refs.map(async (r) => {
    const asset = await readAsset(r.url)
    if (r.offset + r.length > asset.byteLength) throw new Error(`[kiln] kernel artifact ${r.url} is truncated (${asset.byteLength} bytes, needs ${r.offset + r.length}); rebuild and redeploy the app`)
    return { signature: r.signature, key: r.key, meta: r.meta, module: await WebAssembly.compile(new Uint8Array(asset, r.offset, r.length)) }
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
