// Compiled modules: the lazily imported compiler, the in-memory module cache keyed by the
// Merkle key, and instantiation against the shared kernel memory.

import type { Assumptions, KernelMeta, SourceText } from '@kiln/compiler'
import { KilnError } from './errors.js'
import { kernelMemory } from './memory.js'

type Compiler = typeof import('@kiln/compiler')

let compilerPromise: Promise<Compiler> | null = null

/** The compiler (acorn + binaryen), loaded on first need only. */
export function loadCompiler(): Promise<Compiler> {
  return (compilerPromise ??= import('@kiln/compiler'))
}

export interface KernelSource {
  id: string
  code: string
  helpers: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
}

export interface CompiledKernel {
  key: string
  module: WebAssembly.Module
  meta: KernelMeta
}

export interface ReadyKernel {
  fn: (...args: number[]) => number | undefined
  meta: KernelMeta
}

/** key → compiled module, shared by every kernel in this process or page. */
const moduleCache = new Map<string, Promise<CompiledKernel>>()

export const cacheStats = { hits: 0, misses: 0, compiles: 0, compileMs: 0 }

/** Compiles (or finds in the memory cache) one kernel for one signature. */
export async function compileKernelModule(source: KernelSource, signature: string, assume?: Assumptions): Promise<CompiledKernel> {
  const compiler = await loadCompiler()
  const { key } = compiler.kernelKey({ source: source.code, deps: source.helpers, constants: source.constants, signature, assume })
  const hit = moduleCache.get(key)
  if (hit) {
    cacheStats.hits++
    return hit
  }
  cacheStats.misses++
  const pending = (async (): Promise<CompiledKernel> => {
    const started = performance.now()
    const kernelText: SourceText = { code: source.code, file: source.id }
    const result = compiler.compileKernel({ source: kernelText, name: source.id, deps: source.helpers, constants: source.constants, signature, assume })
    cacheStats.compiles++
    cacheStats.compileMs += performance.now() - started
    if (!result.ok) throw new KilnError(result.diagnostics, result.sources)
    return { key, module: await WebAssembly.compile(result.wasm as Uint8Array<ArrayBuffer>), meta: result.meta }
  })()
  moduleCache.set(key, pending)
  pending.catch(() => moduleCache.delete(key))
  return pending
}

/** The host functions a kernel module imports. */
export function kernelImports(): WebAssembly.Imports {
  return {
    env: { memory: kernelMemory().memory },
    Math: Math as unknown as WebAssembly.ModuleImports,
    kiln: { mod: (a: number, b: number) => a % b },
  }
}

/** Instantiates a compiled kernel in the shared memory, initializing its constant region. */
export async function instantiateKernel(compiled: { module: WebAssembly.Module; meta: KernelMeta }): Promise<ReadyKernel> {
  const instance = await WebAssembly.instantiate(compiled.module, kernelImports())
  const exports = instance.exports as Record<string, unknown>
  if (compiled.meta.constBytes > 0) {
    const base = kernelMemory().permanent(compiled.meta.constBytes)
    ;(exports.__kiln_init as (base: number) => void)(base)
  }
  return { fn: exports[compiled.meta.exportName] as ReadyKernel['fn'], meta: compiled.meta }
}
