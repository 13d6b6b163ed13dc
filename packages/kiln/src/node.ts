// The Node entry of `kiln` (package.json "exports" → "node"): everything the browser entry has,
// plus the file store, read synchronously so a warm kernel runs wasm on its very first call.

import { configureStore } from './loader.js'
import { CompilePool, defaultWorkers } from './pool.js'
import { FileStore, type FileStoreOptions } from './store/fileStore.js'

export * from './index.js'
export { FileStore, defaultCacheDir, DEFAULT_MAX_BYTES } from './store/fileStore.js'
export type { FileStoreOptions } from './store/fileStore.js'

const store = new FileStore()
/** One worker compiles for this process (started on the first compile): binaryen never blocks the event loop. */
let pool: CompilePool | null = null
configureStore({
  // Range variants are background work: they never keep a finished script alive.
  compile: async (input) => (await (pool ??= new CompilePool(defaultWorkers(1))).compile(input, { background: input.assume !== undefined })).result,
  // Node ≥ 20.19 can require() an ES module: the key module (acorn) loads only on a cold path,
  // and so does node:module itself (a warm start never needs either).
  keyModuleSync: () => {
    const { createRequire } = (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module')
    return createRequire(import.meta.url)('@kiln/compiler/key') as typeof import('@kiln/compiler/key')
  },
  aliases: true,
  store,
})

/**
 * Points the file store somewhere else or changes its cap (before kernels load modules).
 * `configureCache({ enabled: false })` keeps modules in memory only.
 */
export function configureCache(options: FileStoreOptions & { enabled?: boolean }): FileStore | null {
  if (options.enabled === false) {
    configureStore({ store: null })
    return null
  }
  const next = new FileStore(options)
  configureStore({ store: next })
  return next
}
