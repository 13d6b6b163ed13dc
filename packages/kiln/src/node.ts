// The Node entry of `kiln` (package.json "exports" → "node"): everything the browser entry has,
// plus the file store, read synchronously so a warm kernel runs wasm on its very first call.

import { kernelKey } from '@kiln/compiler/key'
import { configureStore } from './loader.js'
import { FileStore, type FileStoreOptions } from './store/fileStore.js'

export * from './index.js'
export { FileStore, defaultCacheDir, DEFAULT_MAX_BYTES } from './store/fileStore.js'
export type { FileStoreOptions } from './store/fileStore.js'

const store = new FileStore()
configureStore({ keyModule: { kernelKey }, store })

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
