// @kiln/vite: one plugin object for vite.config and rollup.config. It finds `cache: true`
// kernels, resolves what they use across files, compiles them ahead of time through the
// persistent store, emits the `.wasm` artifacts and rewrites each call site so the kernel is
// compiled and instantiated before its first call. Hooks stay thin; the work is in the modules.

import { relative, resolve } from 'node:path'
import { defaultCacheDir, FileStore } from 'kiln'
import { parseSignature } from '@kiln/compiler/signature'
import type { Plugin } from 'rollup'
import type { DevEnvironment, ViteDevServer } from 'vite'
import { compileAhead, compiledSignature } from './aot.js'
import { CompilePool } from 'kiln/pool'
import { mayHaveKernels, prefilter } from './discover.js'
import { ArtifactServer } from './devServer.js'
import { buildReport, type ReportRow } from './report.js'
import { PLACEHOLDER, placeArtifacts, type Artifact, type Placed } from './emit.js'
import { diagnosticError, locateInOriginal } from './errors.js'
import { kernelHotUpdate, type UpdateSummary } from './hotUpdate.js'
import { KernelIndex } from './kernelIndex.js'
import { ModuleCache, type OriginalSource } from './moduleCache.js'
import { resolveOptions, type KilnPluginOptions } from './options.js'
import { readSignaturesFile, recordSignature, type SignaturesFile } from './signaturesFile.js'
import { artifactData, PluginError, signatureLabel, transformKernels, type ArtifactMode } from './transform.js'

export type { KilnPluginOptions } from './options.js'
export type { KernelUpdate, UpdateSummary } from './hotUpdate.js'

const scriptFile = /\.[cm]?[jt]sx?$/
const NODE_MODULE_STUB = '\0kiln:node-module'

/** Instances the plugin makes for worker bundles (their reports say so). */
const workerInstances = new WeakSet<object>()

/** What the plugin did in this process (dev server, watch session, Vitest): `plugin.api.stats()`. */
export interface KilnStats {
  /** Modules transformed (each time a module with kernels is requested or rebuilt). */
  transforms: number
  /** Signatures compiled by the compiler (the rest came from the store or memory). */
  compiled: number
  /** Signatures read from the store. */
  fromStore: number
  /** File changes the dev server handled for kernels. */
  updates: number
  /** `kiln:update` events sent. */
  events: number
}

export interface KilnPluginApi {
  stats(): KilnStats
  /** Calls `listener` after each file change the dev server handled for kernels; returns an unsubscribe function. */
  onUpdate(listener: (summary: UpdateSummary) => void): () => void
}

export default function kiln(options: KilnPluginOptions = {}): Plugin & {
  enforce: 'post'
  api: KilnPluginApi
  config(config: unknown, env: { isSsrBuild?: boolean }): object
  configResolved(config: { root: string; command: string; base?: string; build?: { sourcemap?: unknown; ssr?: unknown } }): void
  configureServer(server: ViteDevServer): void
  hotUpdate: { order: 'post'; handler(this: { environment: DevEnvironment }, options: { file: string; type: 'create' | 'update' | 'delete' }): Promise<unknown> }
} {
  const opts = resolveOptions(options)
  let root = process.cwd()
  let isBuild = true
  /** Whether transforms must return source maps: always under Rollup (its output options come later). */
  let wantMaps = true
  /** A Vite build for browsers (not SSR, not plain Rollup). */
  let forBrowser = false
  let base = '/'
  let store: FileStore | null = null
  let pool: CompilePool | null = null
  let signatures: SignaturesFile = { version: 1, kernels: {} }
  let rows: ReportRow[] = []
  /** Dependency modules by content, resolutions until a file appears or goes: never stale, kept across rebuilds. */
  const cache = new ModuleCache()
  /** The dependency index of each environment (client, ssr, a Vitest environment). */
  const indexes = new Map<string, KernelIndex>()
  /** Artifacts by key, kept across rebuilds: a watch rebuild renders modules it did not transform again. */
  const compiled = new Map<string, Omit<Artifact, 'uses'>>()
  /** Which kernels and signatures each module's transform last registered, by artifact key. */
  const usesByModule = new Map<string, Map<string, Artifact['uses']>>()
  /** Where this output's artifacts went, for the manifest. */
  let placed: Placed[] = []
  /** Present in the dev server: serves the artifacts pages load. */
  let artifactServer: ArtifactServer | null = null
  let server: ViteDevServer | null = null
  /** Forgets which error was printed last (a change may bring the same error back, worth printing again). */
  let errorsPrinted: () => void = () => {}
  const stats: KilnStats = { transforms: 0, compiled: 0, fromStore: 0, updates: 0, events: 0 }
  const listeners = new Set<(s: UpdateSummary) => void>()
  /** The hot update in progress, per environment. */
  const hotQueue = new Map<string, Promise<unknown>>()

  const signaturesPath = (): string => resolve(root, opts.signaturesFile)
  /** One store per project for the plugin, the runtime under Node, Vitest and the CLI. */
  const getStore = (): FileStore => (store ??= new FileStore({ dir: opts.cacheDir ?? defaultCacheDir(root) }))
  const getPool = (): CompilePool => (pool ??= new CompilePool())
  const indexFor = (name: string): KernelIndex => {
    let index = indexes.get(name)
    if (!index) indexes.set(name, (index = new KernelIndex()))
    return index
  }
  const relativeId = (file: string): string => relative(root, file).split('\\').join('/')
  const serveMode = (): Extract<ArtifactMode, { kind: 'serve' }> => ({ kind: 'serve', url: (key) => artifactServer!.url(key), compileUrl: artifactServer!.compileUrl })

  /** A page called a signature nobody declared: compile it here, record it for production builds. */
  const compileForPage = async (id: string, signature: string): Promise<{ status: number; body: unknown }> => {
    const kernel = indexFor('client').kernel(id)
    if (!kernel) return { status: 404, body: { error: `no kernel ${id} is served by this dev server` } }
    try {
      parseSignature(signature)
    } catch (e) {
      return { status: 400, body: { error: `kernel ${id}: ${(e as Error).message}` } }
    }
    const r = await compileAhead(getStore(), getPool(), { id, source: { code: kernel.deps.source, file: kernel.module, ...kernel.at }, deps: kernel.deps, signature })
    if (!r.ok) {
      const error = diagnosticError(r.result.diagnostics, r.result.sources)
      server?.config.logger.error(`[kiln] ${error.message}`, { timestamp: true })
      return { status: 422, body: { error: error.message } }
    }
    stats[r.hit ? 'fromStore' : 'compiled']++
    artifactServer!.add(r.key, r.wasm)
    const c = compiledSignature(signature, r)
    if (!kernel.compiled.some((x) => x.signature === signature)) kernel.compiled.push(c)
    const recorded = recordSignature(signaturesPath(), id, signature)
    if (recorded) {
      signatures = recorded
      server?.config.logger.info(`[kiln] ${id}: new signature ${signature} ${r.hit ? 'read from the store' : `compiled (${r.ms.toFixed(0)} ms)`}, recorded in ${opts.signaturesFile}`, { timestamp: true })
    }
    return { status: 200, body: { artifacts: [artifactData(c, serveMode())] } }
  }

  const plugin: ReturnType<typeof kiln> = {
    name: 'kiln',
    enforce: 'post',

    api: {
      stats: () => ({ ...stats }),
      onUpdate(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    },

    config(_config: unknown, env: { isSsrBuild?: boolean }) {
      return {
        // The dev server compiles for pages, so its dependency optimizer need not follow the
        // runtime's lazy import of the compiler and pre-bundle binaryen (15 MB) on every cold start.
        optimizeDeps: { exclude: ['@kiln/compiler'] },
        // Server builds must emit the artifacts too: SSR loads them from disk.
        ...(env.isSsrBuild ? { build: { ssrEmitAssets: true } } : {}),
        // Module workers are bundled separately; kernels in them are precompiled the same way.
        worker: {
          format: 'es',
          plugins: () => {
            const plugin = kiln(options)
            workerInstances.add(plugin)
            return [plugin]
          },
        },
      }
    },

    configResolved(config) {
      root = config.root
      isBuild = config.command === 'build'
      wantMaps = !isBuild || Boolean(config.build?.sourcemap)
      forBrowser = !config.build?.ssr
      base = config.base ?? '/'
    },

    configureServer(devServer) {
      server = devServer
      artifactServer = new ArtifactServer(base, compileForPage)
      devServer.middlewares.use(artifactServer.handle)
      errorsPrinted = printErrorsOnce(devServer.config.logger)
      // The first edit's recompile should not wait for the compiler to load (Vitest's server,
      // which most often just runs the tests once, loads it on its first compile instead).
      if (!process.env.VITEST) getPool().warm()
    },

    buildStart() {
      const file = signaturesPath()
      signatures = readSignaturesFile(file)
      this.addWatchFile(file)
      rows = []
      cache.newBuild()
    },

    watchChange(id, change) {
      cache.fileChanged(id, change.event)
      if (id === signaturesPath()) signatures = readSignaturesFile(id)
      // Vite only soft-invalidates the importers of a changed module, keeping their transforms:
      // a kernel module's transform has the changed file's constants and helpers baked in, so
      // every kernel module whose closure includes the file is invalidated for good (Vitest
      // reruns and page reloads then transform it again; the dev server's hot update does so now).
      if (server) {
        for (const [name, index] of indexes) {
          const graph = server.environments[name]?.moduleGraph
          for (const m of index.modulesReading(id)) for (const mod of graph?.getModulesByFile(m.file) ?? []) graph!.invalidateModule(mod)
        }
      }
    },

    // The compiler's binaryen imports `node:module` only when it runs under Node. In a browser
    // bundle that import is never reached; a stub stands in for it, so the build does not warn
    // about a module the app never uses.
    resolveId: {
      order: 'pre',
      filter: { id: /^node:module$/ },
      handler(source, importer) {
        // Vite names the environment (dev SSR shares the resolved config with the client).
        const consumer = (this as { environment?: { config?: { consumer?: string } } }).environment?.config?.consumer
        if (!(consumer ? consumer === 'client' : forBrowser) || !importer || !/[\\/]binaryen[\\/]/.test(importer)) return null
        return NODE_MODULE_STUB
      },
    },

    load: {
      filter: { id: /^\0kiln:node-module$/ },
      handler(id) {
        if (id !== NODE_MODULE_STUB) return null
        return 'export function createRequire() { throw new Error("[kiln] node:module is not available here") }\nexport default { createRequire }\n'
      },
    },

    transform: {
      // The bundler skips the hook, and passing the code to JS, for modules that cannot have
      // kernels (Rolldown and Rollup 4 read the filter; the handler checks again for bundlers that do not).
      filter: { id: { include: scriptFile, exclude: [/^\0/, /\/node_modules\//] }, code: prefilter },
      async handler(code, id) {
        const file = id.split('?')[0]
        if (id.startsWith('\0') || file.includes('/node_modules/') || !scriptFile.test(file) || !mayHaveKernels(code)) return null
        const environment = (this as { environment?: { name: string; config: { consumer?: string } } }).environment
        const mode: ArtifactMode = isBuild ? { kind: 'build' } : artifactServer && environment?.config.consumer === 'client' ? serveMode() : { kind: 'inline' }
        const index = indexFor(environment?.name ?? 'build')
        let result
        try {
          result = await transformKernels(code, file, {
            root, mode, strict: opts.strict, artifactTimeout: opts.artifactTimeout, wantMaps, signatures: signatures.kernels, store: getStore(), pool: getPool, cache,
            // The bundler's own parser (native in Rolldown and Rollup) is several times faster than acorn.
            parse: (text) => this.parse(text),
            resolve: async (source, importer) => {
              const r = await this.resolve(source, importer, { skipSelf: true })
              return r && !r.external ? r.id.split('?')[0] : null
            },
            warn: (w) => this.warn(w),
            addWatchFile: (f) => this.addWatchFile(f),
          })
        } catch (e) {
          if (!(e instanceof PluginError)) throw e
          // Point at the source as written: this module's through the transforms before ours, a dependency's through TypeScript stripping.
          e.error = locateInOriginal(e.error, e.error.loc?.file === file ? ownOriginal(this, file) : cache.original(e.error.loc?.file ?? ''))
          // The previous kernels stay indexed (they keep answering); the files read so far are watched.
          const prev = index.get(file)
          index.set({ file, kernels: prev?.kernels ?? [], files: new Set([...(prev?.files ?? []), ...e.files]), ordinaryImports: prev?.ordinaryImports ?? new Set(), outside: prev?.outside ?? '', error: e.error })
          // Vite's own errors and its editor links count columns from 1; Rollup's from 0.
          this.error(isBuild || !e.error.loc ? e.error : { ...e.error, plugin: 'kiln', loc: { ...e.error.loc, column: e.error.loc.column + 1 } })
        }
        stats.transforms++
        if (!result) return null
        index.set(result.record)
        for (const r of result.rows) stats[r.hit ? 'fromStore' : 'compiled']++
        rows.push(...result.rows)
        const uses = new Map<string, Artifact['uses']>()
        usesByModule.set(file, uses)
        for (const k of result.record.kernels) {
          for (const c of k.compiled) {
            if (mode.kind === 'serve') artifactServer!.add(c.key, c.wasm)
            if (mode.kind !== 'build') continue
            if (!compiled.has(c.key)) compiled.set(c.key, { key: c.key, binding: k.id.slice(k.id.lastIndexOf('#') + 1), wasm: c.wasm })
            let list = uses.get(c.key)
            if (!list) uses.set(c.key, (list = []))
            list.push({ id: k.id, signature: signatureLabel(c.signature, c.assume) })
          }
        }
        return { code: result.code, map: result.map }
      },
    },

    hotUpdate: {
      order: 'post',
      async handler({ file, type }) {
        const env = this.environment
        if (file === signaturesPath()) {
          // Reloads get the recorded signatures precompiled; pages already running have them.
          for (const m of indexFor(env.name).all()) for (const mod of env.moduleGraph.getModulesByFile(m.file) ?? []) env.moduleGraph.invalidateModule(mod)
          return []
        }
        if (!artifactServer) return undefined
        if (indexFor(env.name).modulesReading(file).length > 0) errorsPrinted()
        // One change at a time per environment: a later edit is handled after an earlier one's
        // transforms are done, so an older transform can never be the last word.
        const previous = hotQueue.get(env.name) ?? Promise.resolve()
        const handled = previous.then(() => kernelHotUpdate({
          env, index: indexFor(env.name), cache,
          mode: env.config.consumer === 'client' ? serveMode() : { kind: 'inline' },
          relative: relativeId,
          compileCount: () => stats.compiled,
          done: (summary) => {
            stats.updates++
            if (summary.event) stats.events++
            for (const l of listeners) l(summary)
          },
        }, file, type))
        hotQueue.set(env.name, handled.catch(() => {}))
        return handled
      },
    },

    renderStart() {
      placed = []
    },

    // Rolldown reads the code filter (Rollup's types lack it; Rollup calls the handler always).
    renderChunk: {
      filter: { code: PLACEHOLDER },
      handler(code, chunk, outputOptions) {
        const r = placeArtifacts(code, chunk.fileName, opts.artifacts, {
          artifact: (key) => artifactFor(key) ?? storedArtifact(getStore(), key),
          emit: (name, source) => this.getFileName(this.emitFile({ type: 'asset', name, source })),
        })
        if (!r) return null
        placed.push(...r.placed)
        return { code: r.out.toString(), map: outputOptions.sourcemap ? r.out.generateMap({ hires: 'boundary' }) : null }
      },
    } as Plugin['renderChunk'],

    async buildEnd() {
      // The dev server keeps its workers: the next edit recompiles without loading the compiler again.
      if (server) return
      await pool?.close()
      pool = null
    },

    async closeBundle() {
      if (!server) return
      await pool?.close()
      pool = null
    },

    generateBundle() {
      if (placed.length === 0) return
      const manifest: Record<string, Record<string, Omit<Placed, 'id' | 'signature'>>> = {}
      for (const { id, signature, ...where } of placed) (manifest[id] ??= {})[signature] = where
      this.emitFile({ type: 'asset', fileName: 'kiln-manifest.json', source: JSON.stringify({ version: 1, kernels: manifest }, null, 2) })
      if (opts.report) console.log(buildReport(rows, workerInstances.has(plugin) ? 'worker bundle' : null))
    },
  }
  /** An artifact with the uses every module's latest transform registered for it. */
  function artifactFor(key: string): Artifact | null {
    const a = compiled.get(key)
    if (!a) return null
    return { ...a, uses: [...usesByModule.values()].flatMap((m) => m.get(key) ?? []) }
  }

  return plugin
}

/** An artifact a cached transform named, from the store (Rollup's `cache` across processes). */
function storedArtifact(store: FileStore, key: string): Artifact | null {
  const { entry } = store.getSync(key)
  if (!entry) return null
  return { key, binding: entry.id.split('#').pop() ?? 'kernel', wasm: entry.wasm, uses: [{ id: entry.id, signature: signatureLabel(entry.recipe.signature, entry.recipe.assume) }] }
}

/**
 * Vite transforms a module ahead of the page's request for it ("pre-transform") and again on the
 * request; a failing transform is logged both times. The same Kiln error for the same file is
 * printed once (again only after a change in between).
 */
function printErrorsOnce(logger: ViteDevServer['config']['logger']): () => void {
  const error = logger.error.bind(logger)
  let last: string | null = null
  logger.error = (msg, options) => {
    const e = options?.error as { pluginCode?: unknown; message?: string; id?: string } | undefined
    if (typeof e?.pluginCode === 'string' && e.pluginCode.startsWith('KILN_')) {
      const text = `${e.id}\0${e.message}`
      if (text === last) return
      last = text
    }
    error(msg, options)
  }
  return () => {
    last = null
  }
}

/** A module's text before the transforms that ran ahead of this plugin, with the map back to it (none when nothing changed it). */
function ownOriginal(ctx: unknown, file: string): OriginalSource | undefined {
  if (!/\.(?:[cm]?tsx?|jsx|vue|svelte|astro)$/.test(file)) return undefined
  try {
    const map = (ctx as { getCombinedSourcemap(): OriginalSource['map'] & { sourcesContent?: (string | null)[] } }).getCombinedSourcemap()
    const code = map.sourcesContent?.[0]
    return code ? { code, map } : undefined
  } catch {
    return undefined
  }
}
