// Render time: the artifacts a chunk loads become assets, and the chunk's placeholders become
// URLs relative to the chunk plus the artifact's byte range in the asset.
//
// `chunk` (the default) packs a chunk's artifacts into one content-hashed asset: a page makes one
// request per chunk instead of one per kernel before its kernels can run, a build writes one file
// instead of hundreds, and caching is no coarser than before, because the chunk embeds every
// artifact's key and so changes whenever any of them does. `kernel` emits one `.wasm` per artifact.

import MagicString from 'magic-string'

/** A string literal standing for an artifact's location until the chunk is rendered. */
export const PLACEHOLDER = '__KILN_ASSET__:'
export const artifactPlaceholder = (key: string): string => JSON.stringify(`${PLACEHOLDER}${key}`)
const placeholders = /(["'`])__KILN_ASSET__:([^"'`]+)\1/g

export type ArtifactLayout = 'chunk' | 'kernel'

export interface Artifact {
  key: string
  /** The kernel's binding, for the asset's name in the `kernel` layout. */
  binding: string
  wasm: Uint8Array
  /** The kernels and signatures it serves (kernels with the same inputs share one artifact). */
  uses: { id: string; signature: string }[]
}

/** Where one artifact ended up: what the manifest records. */
export interface Placed {
  id: string
  signature: string
  key: string
  file: string
  offset: number
  length: number
}

export interface PlaceHost {
  /** The artifact a placeholder names (null: unknown to this build). */
  artifact(key: string): Artifact | null
  /** Emits an asset and returns its output file name. */
  emit(name: string, source: Uint8Array): string
}

/** Emits the assets a chunk's placeholders name and rewrites them; null when there are none. */
export function placeArtifacts(code: string, chunkFile: string, layout: ArtifactLayout, host: PlaceHost): { out: MagicString; placed: Placed[] } | null {
  const found = [...code.matchAll(placeholders)]
  if (found.length === 0) return null
  // One location per distinct artifact, in order of first use.
  const locations = new Map<string, { file: string; offset: number; length: number }>()
  const byKey = new Map<string, Artifact>()
  for (const m of found) {
    const key = m[2]
    if (byKey.has(key)) continue
    const a = host.artifact(key)
    if (!a) throw new Error(`[kiln] ${chunkFile} refers to kernel artifact ${key}, which this build did not compile; rebuild without the bundler's cache`)
    byKey.set(key, a)
  }
  const artifacts = [...byKey.values()]
  if (layout === 'kernel') {
    for (const a of artifacts) locations.set(a.key, { file: host.emit(`${a.binding}.wasm`, a.wasm), offset: 0, length: a.wasm.length })
  } else {
    const pack = new Uint8Array(artifacts.reduce((n, a) => n + a.wasm.length, 0))
    const offsets: number[] = []
    let at = 0
    for (const a of artifacts) {
      offsets.push(at)
      pack.set(a.wasm, at)
      at += a.wasm.length
    }
    const file = host.emit('kernels.kiln', pack)
    artifacts.forEach((a, i) => locations.set(a.key, { file, offset: offsets[i], length: a.wasm.length }))
  }
  const out = new MagicString(code)
  for (const m of found) {
    const loc = locations.get(m[2])!
    // The literal is the value of `url:` in an object literal the plugin wrote; the range follows it.
    out.overwrite(m.index!, m.index! + m[0].length, `new URL(${JSON.stringify(relativeUrl(chunkFile, loc.file))}, import.meta.url).href, offset: ${loc.offset}, length: ${loc.length}`)
  }
  const placed = artifacts.flatMap((a) => a.uses.map((u) => ({ ...u, key: a.key, ...locations.get(a.key)! })))
  return { out, placed }
}

/**
 * A URL from one output file to another. Relative to the chunk that loads the asset, it works in
 * pages under any base, in workers, and under Node (SSR), where it is a file URL read from disk.
 */
export function relativeUrl(fromFile: string, toFile: string): string {
  const from = fromFile.split('/').slice(0, -1)
  const to = toFile.split('/')
  let common = 0
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++
  const rel = [...from.slice(common).map(() => '..'), ...to.slice(common)].join('/')
  return rel.startsWith('.') ? rel : `./${rel}`
}
