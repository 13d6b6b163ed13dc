// A file changed under the dev server: find every kernel whose closure includes it, transform
// their modules again (which recomputes the keys and compiles only what changed), and send one
// `kiln:update` event with the new artifacts, which the runtime swaps in place. When only
// kernels can see the edit, no module runs again and the page keeps its state; otherwise Vite's
// own HMR goes on as usual. A failed compile goes to Vite's overlay while the previous kernel
// keeps answering.

import type { DevEnvironment, EnvironmentModuleNode } from 'vite'
import type { ArtifactMode } from './transform.js'
import { artifactData } from './transform.js'
import { describeChange, type KernelIndex, type KernelRecord, type ModuleRecord } from './kernelIndex.js'
import type { ModuleCache } from './moduleCache.js'
import type { EsNode, ModuleInfo } from './moduleInfo.js'

/** What the runtime gets: each kernel whose key changed, with what it needs to run it. */
export interface KernelUpdate {
  id: string
  artifacts: ReturnType<typeof artifactData>[]
  source: string
  helpers: Record<string, string>
  constants: Record<string, unknown>
}

/** One handled change, for logs, tests and the bench. */
export interface UpdateSummary {
  file: string
  environment: string
  /** Kernels recompiled or re-keyed, with why. */
  changed: { id: string; why: string }[]
  /** Signatures compiled (not read from the store) for this change. */
  compiled: number
  /** Time those compiles took (part of `ms`). */
  compileMs: number
  /** Whether a `kiln:update` event went out. */
  event: boolean
  /** Whether Vite's own HMR was left out (only kernels see the edit). */
  kernelOnly: boolean
  error: string | null
  ms: number
}

export interface HotUpdateHost {
  env: DevEnvironment
  index: KernelIndex
  cache: ModuleCache
  mode: Exclude<ArtifactMode, { kind: 'build' }>
  relative(file: string): string
  /** Counts compiles the re-transforms make (a snapshot before and after). */
  compileCount(): number
  done(summary: UpdateSummary): void
}

export async function kernelHotUpdate(host: HotUpdateHost, file: string, type: 'create' | 'update' | 'delete'): Promise<EnvironmentModuleNode[] | undefined> {
  const { env, index } = host
  const affected = new Set(index.modulesReading(file))
  // A file that appears may be the one a failed kernel could not resolve.
  if (type !== 'update') for (const m of index.failed()) affected.add(m)
  if (affected.size === 0) return undefined
  const started = performance.now()
  const compilesBefore = host.compileCount()
  const ownBefore = index.get(file)
  const before = new Map<string, KernelRecord>()
  const hadError = [...affected].some((m) => m.error)
  for (const m of affected) for (const k of m.kernels) before.set(k.id, k)

  let error: (Error & Record<string, unknown>) | null = null
  for (const m of affected) {
    for (const mod of env.moduleGraph.getModulesByFile(m.file) ?? []) {
      env.moduleGraph.invalidateModule(mod)
      if (!mod.url) continue
      try {
        await env.transformRequest(mod.url)
      } catch (e) {
        error ??= e as Error & Record<string, unknown>
      }
    }
  }

  const summary: UpdateSummary = { file, environment: env.name, changed: [], compiled: host.compileCount() - compilesBefore, compileMs: 0, event: false, kernelOnly: false, error: null, ms: 0 }
  if (error) {
    summary.error = String(error.message)
    env.hot.send({ type: 'error', err: overlayError(error) })
    // Printed once; a reload's transforms of the same broken module print nothing more.
    const err = overlayError(error)
    env.logger.error(`[plugin kiln] ${err.message}${err.frame ? `\n${err.frame}` : ''}`, { timestamp: true, error: Object.assign(error, { plugin: err.plugin }) })
    summary.ms = performance.now() - started
    host.done(summary)
    return [] // the page keeps the previous kernel; nothing reloads into a broken module
  }

  const updates: KernelUpdate[] = []
  for (const m of affected) {
    for (const k of index.get(m.file)?.kernels ?? []) {
      const prev = before.get(k.id)
      if (prev && sameKeys(prev, k)) continue
      summary.changed.push({ id: k.id, why: describeChange(prev?.deps, k.deps, host.relative) })
      updates.push({ id: k.id, artifacts: k.compiled.map((c) => artifactData(c, host.mode)), source: k.deps.source, helpers: k.deps.helpers, constants: k.deps.constants })
    }
  }
  const ownAfter = index.get(file)
  summary.kernelOnly = env.config.consumer === 'client' && (ownBefore
    ? Boolean(ownAfter) && ownBefore.outside === ownAfter!.outside
    : await onlyKernelsImport(file, env, index, host.cache))
  if (updates.length > 0 || hadError) {
    // `cleared`: the overlay an earlier failure opened can close even when no key changed.
    env.hot.send({ type: 'custom', event: 'kiln:update', data: { kernels: updates, cleared: hadError } })
    summary.event = true
  }
  summary.ms = performance.now() - started
  for (const c of summary.changed) {
    const k = index.kernel(c.id)!
    const compiled = k.compiled.filter((x) => !x.hit)
    const ms = compiled.reduce((t, x) => t + x.ms, 0)
    summary.compileMs += ms
    const how = compiled.length > 0 ? `recompiled in ${ms.toFixed(0)} ms` : 'from the store'
    env.logger.info(`[kiln] ${c.id}: ${c.why} changed, ${how}`, { timestamp: true })
  }
  if (summary.event && updates.length > 0) {
    const how = summary.kernelOnly ? 'swapped in place, no reload' : 'swapped; Vite updates the modules that use the file'
    env.logger.info(`[kiln] hot swap (${env.name}): ${updates.map((u) => u.id).join(', ')} ${how} (${summary.ms.toFixed(0)} ms)`, { timestamp: true })
  }
  host.done(summary)
  return summary.kernelOnly ? [] : undefined
}

/** Whether Vite's HMR can skip `file`: every module importing it uses it only in kernel-only functions. */
async function onlyKernelsImport(file: string, env: DevEnvironment, index: KernelIndex, cache: ModuleCache, seen = new Set<string>()): Promise<boolean> {
  if (seen.has(file)) return true
  seen.add(file)
  for (const mod of env.moduleGraph.getModulesByFile(file) ?? []) {
    for (const importer of mod.importers) {
      const at = importer.file
      if (!at) return false
      const record: ModuleRecord | undefined = index.get(at)
      if (record) {
        if (record.ordinaryImports.has(file)) return false
        continue
      }
      // A module that only re-exports (`export { a } from`, `export *`) passes the question on.
      let info: ModuleInfo
      try {
        info = await cache.read(at, undefined)
      } catch {
        return false
      }
      if (!onlyReexports(info) || !(await onlyKernelsImport(at, env, index, cache, seen))) return false
    }
  }
  return true
}

function onlyReexports(info: ModuleInfo): boolean {
  return info.ast.body.every((n: EsNode) =>
    n.type === 'ExportAllDeclaration' ||
    (n.type === 'ImportDeclaration' && n.specifiers.length > 0) ||
    (n.type === 'ExportNamedDeclaration' && !n.declaration && (n.source || n.specifiers.every((s: EsNode) => info.imports.has(s.local.name)))))
}

function sameKeys(a: KernelRecord, b: KernelRecord): boolean {
  const keys = new Map(a.compiled.map((c) => [c.signature, c.key]))
  return a.compiled.length === b.compiled.length && b.compiled.every((c) => keys.get(c.signature) === c.key)
}

/** Vite's error payload (its overlay shows the plugin, file:line:column and frame). */
function overlayError(e: Error & Record<string, unknown>): { message: string; stack: string; id?: string; frame?: string; plugin?: string; pluginCode?: string; loc?: { file?: string; line: number; column: number } } {
  return {
    message: String(e.message),
    stack: '',
    id: e.id as string | undefined,
    frame: e.frame as string | undefined,
    plugin: (e.plugin as string | undefined) ?? 'kiln',
    pluginCode: e.pluginCode as string | undefined,
    loc: e.loc as { file?: string; line: number; column: number } | undefined,
  }
}
