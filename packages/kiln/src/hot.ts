// Hot swap under a dev server (@kiln/vite): the server sends one `kiln:update` event with the
// new artifacts of every kernel whose key changed, and each live kernel with that id swaps its
// implementation in place, so references the page already holds call the new code and its
// state is kept. Every module with kernels subscribes; each event is handled once per realm.

import { loadArtifacts, type AotModule, type ArtifactRef } from './artifacts.js'

/** One kernel's new code, as the dev server sends it. */
export interface KernelUpdate {
  id: string
  artifacts: ArtifactRef[]
  /** The kernel's source, helpers and constants now (the plain-JS tier is rebuilt from them). */
  source: string
  helpers: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
}

export interface HotPayload {
  kernels: KernelUpdate[]
  /** A failure the server reported earlier is fixed (its overlay can close). */
  cleared?: boolean
}

type Swap = (update: KernelUpdate, modules: AotModule[]) => void

const SWAP = Symbol('kiln.swap')
const live = new Map<string, Set<WeakRef<{ [SWAP]?: Swap }>>>()
const handled = new WeakSet<object>()
const listeners = new Set<(ids: string[], ms: number) => void>()

/** Makes `kernel` swappable by updates for `id`; the registry does not keep it alive. */
export function registerHot(id: string, kernel: object, swap: Swap): void {
  ;(kernel as { [SWAP]?: Swap })[SWAP] = swap
  let set = live.get(id)
  if (!set) live.set(id, (set = new Set()))
  set.add(new WeakRef(kernel))
}

/** The handler the plugin's generated code subscribes to `kiln:update`. */
export async function hotUpdate(payload: HotPayload): Promise<void> {
  if (handled.has(payload)) return
  handled.add(payload)
  const started = performance.now()
  const swapped: string[] = []
  await Promise.all(payload.kernels.map(async (update) => {
    const targets = [...(live.get(update.id) ?? [])]
    if (targets.length === 0) return
    const modules = await loadArtifacts(update.artifacts)
    for (const ref of targets) {
      const kernel = ref.deref()
      if (!kernel) live.get(update.id)!.delete(ref)
      else kernel[SWAP]?.(update, modules)
    }
    swapped.push(update.id)
  }))
  closeErrorOverlay()
  const ms = performance.now() - started
  if (swapped.length > 0) for (const l of listeners) l(swapped, ms)
}

/**
 * Calls `listener` after each hot update swapped kernels in this realm, with their ids and the
 * milliseconds the swap took here (loading and compiling the new artifacts, instantiating them).
 */
export function onHotSwap(listener: (ids: string[], ms: number) => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The plain-JS twin of a kernel from its sources (the page's own copy may predate the edit). Null where `Function` is not allowed. */
export function plainFunction(update: Pick<KernelUpdate, 'source' | 'helpers' | 'constants'>): ((...args: unknown[]) => unknown) | null {
  const num = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))
  const literal = (v: number | boolean | readonly number[]): string => (typeof v === 'object' ? `[${v.map(num).join(', ')}]` : typeof v === 'number' ? num(v) : String(v))
  const lines = [
    ...Object.entries(update.constants).map(([name, v]) => `const ${name} = ${literal(v)};`),
    ...Object.entries(update.helpers).map(([name, code]) => `const ${name} = (${code});`),
    `return (${update.source});`,
  ]
  try {
    return new Function(lines.join('\n'))() as (...args: unknown[]) => unknown
  } catch {
    return null
  }
}

/** Vite's error overlay, when a fix arrives (the page has no other way to hear of it). */
function closeErrorOverlay(): void {
  const doc = (globalThis as unknown as { document?: { querySelectorAll(s: string): Iterable<{ close?: () => void; remove(): void }> } }).document
  if (!doc) return
  for (const el of doc.querySelectorAll('vite-error-overlay')) el.close ? el.close() : el.remove()
}
