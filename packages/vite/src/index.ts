// @kiln/vite: one plugin object for vite.config and rollup.config. It finds `cache: true`
// kernels, resolves what they use across files, compiles them ahead of time through the
// persistent store, emits the `.wasm` artifacts and rewrites each call site so the kernel is
// compiled and instantiated before its first call. Hooks stay thin; the work is in the modules.

import { readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { FileStore } from 'kiln'
import type { KernelMeta } from '@kiln/compiler'
import MagicString from 'magic-string'
import type { Plugin } from 'rollup'
import { compileAhead } from './aot.js'
import { CompilePool } from './pool.js'
import { collectDependencies, DependencyError, type ModuleHost } from './deps.js'
import { findKernels, mayHaveKernels, prefilter, type KernelSite } from './discover.js'
import { buildReport, type ReportRow } from './report.js'
import { artifactPlaceholder, PLACEHOLDER, placeArtifacts, type Artifact, type Placed } from './emit.js'
import { dependencyError, diagnosticError } from './errors.js'
import { positionOf, readModule, type EsNode, type ModuleInfo, type Parse } from './moduleInfo.js'
import { resolveOptions, type KilnPluginOptions } from './options.js'
import { readSignaturesFile, type SignaturesFile } from './signaturesFile.js'
import { constantsLiteral, injectPluginData } from './rewrite.js'

export type { KilnPluginOptions } from './options.js'

const scriptFile = /\.[cm]?[jt]sx?$/
const NODE_MODULE_STUB = '\0kiln:node-module'

/** Instances the plugin makes for worker bundles (their reports say so). */
const workerInstances = new WeakSet<object>()

export default function kiln(options: KilnPluginOptions = {}): Plugin & {
  enforce: 'post'
  config(config: unknown, env: { isSsrBuild?: boolean }): object
  configResolved(config: { root: string; command: string; cacheDir: string; build?: { sourcemap?: unknown; ssr?: unknown } }): void
} {
  const opts = resolveOptions(options)
  let root = process.cwd()
  let isBuild = true
  /** Whether transforms must return source maps: always under Rollup (its output options come later). */
  let wantMaps = true
  /** A Vite build for browsers (not SSR, not plain Rollup). */
  let forBrowser = false
  let viteCacheDir: string | undefined
  let store: FileStore
  let pool: CompilePool | null = null
  let signatures: SignaturesFile = { version: 1, kernels: {} }
  let rows: ReportRow[] = []
  /** Dependency modules read during this build, by resolved id (each read and parsed once). */
  let modules = new Map<string, Promise<ModuleInfo>>()
  /** Import resolutions during this build, by specifier and importing directory. */
  let resolutions = new Map<string, Promise<string | null>>()
  /** Artifacts by key, kept across rebuilds: a watch rebuild renders modules it did not transform again. */
  const compiled = new Map<string, Omit<Artifact, 'uses'>>()
  /** Which kernels and signatures each module's transform last registered, by artifact key. */
  const usesByModule = new Map<string, Map<string, Artifact['uses']>>()
  /** Where this output's artifacts went, for the manifest. */
  let placed: Placed[] = []

  const plugin: ReturnType<typeof kiln> = {
    name: 'kiln',
    enforce: 'post',

    config(_config: unknown, env: { isSsrBuild?: boolean }) {
      return {
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
      viteCacheDir = config.cacheDir
    },

    buildStart() {
      store = new FileStore({ dir: opts.cacheDir ?? (viteCacheDir ? join(viteCacheDir, 'kiln') : undefined) })
      const file = resolve(root, opts.signaturesFile)
      signatures = readSignaturesFile(file)
      this.addWatchFile(file)
      rows = []
      modules = new Map()
      resolutions = new Map()
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
        // The bundler's own parser (native in Rolldown and Rollup) is several times faster than acorn.
        const parse: Parse = (text) => this.parse(text)
        let info: ModuleInfo
        try {
          info = readModule(file, code, parse)
        } catch {
          return null // not ours to report: the bundler's own parse will
        }
        const sites = findKernels(info).filter((s) => !isRewritten(s))
        if (sites.length === 0) return null

        const host: ModuleHost = {
          load: async (source, importer) => {
            const at = `${source}\0${importer.slice(0, importer.lastIndexOf('/'))}`
            let resolved = resolutions.get(at)
            if (!resolved) {
              resolutions.set(at, (resolved = this.resolve(source, importer, { skipSelf: true }).then((r) => (r && !r.external ? r.id.split('?')[0] : null))))
            }
            const path = await resolved
            if (!path) return null
            let m = modules.get(path)
            if (!m) modules.set(path, (m = readAsJs(path).then((text) => readModule(path, text, parse))))
            return m
          },
        }
        const out = new MagicString(code)
        const preamble: string[] = []
        /** Files this module's kernels read, watched once each (a change re-transforms this module). */
        const watched = new Set<string>([file])
        const uses = new Map<string, Artifact['uses']>()
        usesByModule.set(file, uses)
        for (const [n, site] of sites.entries()) {
          if (site.dynamic) {
            this.warn({ message: `kernel \`${site.binding}\` is left to run time: ${site.dynamic}`, id: file, loc: { file, ...positionOf(info, site.call.start) } })
            continue
          }
          if (!site.cache) continue
          const kernelId = `${relative(root, file).split('\\').join('/')}#${site.binding}`
          let deps
          try {
            deps = await collectDependencies(site.fn, info, host)
          } catch (e) {
            if (e instanceof DependencyError) this.error(dependencyError(e.problem))
            throw e
          }
          for (const f of deps.files) {
            if (watched.has(f)) continue
            watched.add(f)
            this.addWatchFile(f)
          }
          const fnNode: EsNode = site.fn
          const sigs = [...new Set([...site.signatures, ...(signatures.kernels[kernelId] ?? [])])]
          const refs: string[] = []
          for (const signature of sigs) {
            const r = await compileAhead(store, (pool ??= new CompilePool()), { id: kernelId, source: { code: deps.source, file, ...positionOf(info, fnNode.start) }, deps, signature })
            if (!r.ok) this.error(diagnosticError(r.result.diagnostics, r.result.sources))
            rows.push({ id: kernelId, signature, bytes: r.wasm.length, ms: r.ms, hit: r.hit })
            if (!isBuild) continue
            if (!compiled.has(r.key)) compiled.set(r.key, { key: r.key, binding: site.binding, wasm: r.wasm })
            let list = uses.get(r.key)
            if (!list) uses.set(r.key, (list = []))
            list.push({ id: kernelId, signature })
            refs.push(`{ signature: ${JSON.stringify(signature)}, key: ${JSON.stringify(r.key)}, meta: ${JSON.stringify(runtimeMeta(r.meta))}, url: ${artifactPlaceholder(r.key)} }`)
          }
          const artifacts = isBuild ? `__kiln_artifacts_${n}` : null
          if (artifacts) preamble.push(`const ${artifacts} = await __kilnLoadArtifacts([${refs.join(', ')}]);`)
          const data = `{ id: ${JSON.stringify(kernelId)}, source: ${JSON.stringify(deps.source)}, helpers: ${JSON.stringify(deps.helpers)}, constants: ${constantsLiteral(deps.constants)}, strict: ${opts.strict}${artifacts ? `, artifacts: ${artifacts}` : ''} }`
          injectPluginData(out, site, data)
        }
        if (preamble.length > 0) {
          const lastImport = info.ast.body.filter((n: EsNode) => n.type === 'ImportDeclaration').at(-1)
          const at = lastImport ? lastImport.end : 0
          out.appendRight(at, `\nimport { loadArtifacts as __kilnLoadArtifacts } from 'kiln';\n${preamble.join('\n')}\n`)
        }
        if (!out.hasChanged()) return null
        return { code: out.toString(), map: wantMaps ? out.generateMap({ source: file, includeContent: true }) : null }
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
          artifact: (key) => artifactFor(key) ?? storedArtifact(store, key),
          emit: (name, source) => this.getFileName(this.emitFile({ type: 'asset', name, source })),
        })
        if (!r) return null
        placed.push(...r.placed)
        return { code: r.out.toString(), map: outputOptions.sourcemap ? r.out.generateMap({ hires: 'boundary' }) : null }
      },
    } as Plugin['renderChunk'],

    async buildEnd() {
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
  return entry ? { key, binding: entry.id.split('#').pop() ?? 'kernel', wasm: entry.wasm, uses: [{ id: entry.id, signature: entry.recipe.signature }] } : null
}

/** What the runtime reads of an artifact's metadata (the rest stays in the manifest and store). */
function runtimeMeta(meta: KernelMeta): Pick<KernelMeta, 'exportName' | 'result' | 'constBytes' | 'speculative' | 'variant' | 'mathImports'> & { params: { written: boolean }[] } {
  return { exportName: meta.exportName, result: meta.result, constBytes: meta.constBytes, speculative: meta.speculative, variant: meta.variant, mathImports: [], params: meta.params.map((p) => ({ written: p.written })) }
}

/** Output of this plugin carries `__kiln` in the options: transforming it again changes nothing. */
function isRewritten(site: KernelSite): boolean {
  return site.options?.type === 'ObjectExpression' && site.options.properties.some((p: EsNode) => p.type === 'Property' && p.key?.name === '__kiln')
}

/** A dependency module as JS: TypeScript is stripped with Vite's transformer when present. */
async function readAsJs(path: string): Promise<string> {
  const code = readFileSync(path, 'utf8')
  if (!/\.[cm]?tsx?$/.test(path)) return code
  const vite = (await import('vite').catch(() => null)) as null | { transformWithOxc?: (code: string, file: string, options?: object) => Promise<{ code: string }> }
  if (!vite?.transformWithOxc) throw new Error(`[kiln] ${path}: reading TypeScript dependencies needs Vite's transformer`)
  return (await vite.transformWithOxc(code, path, { lang: path.endsWith('x') ? 'tsx' : 'ts' })).code
}
