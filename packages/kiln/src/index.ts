// kiln: numeric kernels compiled to WebAssembly per signature, called synchronously.
// The compiler is loaded only by dynamic import, when a signature must be compiled here.

export { kernel } from './kernel.js'
export type { AnyFunction, Kernel, KernelOptions, Tier } from './kernel.js'
export { KilnError } from './errors.js'
export { loadArtifacts } from './artifacts.js'
export { precompiledVariants } from './args.js'
export type { AotModule, ArtifactRef, PluginData } from './artifacts.js'
export { alloc, allocImageData, free, reserveMemory, kernelMemory, MAX_PAGES } from './memory.js'
export type { TypedArray, TypedArrayConstructor } from './memory.js'
export { stats } from './loader.js'
export { hotUpdate, onHotSwap } from './hot.js'
export type { HotPayload, KernelUpdate } from './hot.js'
export type { Diagnostic, DiagnosticCode } from '@kiln/compiler/diagnostics'

// Browsers keep compiled signatures in IndexedDB (opened on first need, by kernels with cache: true).
import { configureStore } from './loader.js'
configureStore({ storeFactory: async () => (await import('./store/idbStore.js')).openIndexedDbStore() })
