// Compiled modules: the lazily imported compiler, the in-memory module cache keyed by the
// Merkle key, the persistent store behind it (file store in Node, IndexedDB in browsers),
// cache logging and statistics, and instantiation against the shared kernel memory.

import type { Assumptions, CompileInput, CompileResult, KernelMeta, KeyInput, KernelKey, SourceText } from '@kiln/compiler'
import { rawKeyText } from '@kiln/compiler/raw'
import type { StoredEntry } from './store/entry.js'
import { explainMiss } from './store/explain.js'
import type { KernelStore } from './store/types.js'
import { KilnError } from './errors.js'
import { kernelMemory } from './memory.js'

type Compiler = typeof import('@kiln/compiler')
type KeyModule = { kernelKey(input: KeyInput): KernelKey }

let compilerPromise: Promise<Compiler> | null = null
/** Loaded by dynamic import where needed; the Node entry can also load it synchronously. */
let keyModule: KeyModule | null = null
let keyModulePromise: Promise<KeyModule> | null = null
/** Node: loads the key module synchronously (so a kernel's first call can read the store). */
let keyModuleSync: (() => KeyModule) | null = null
/** Whether the store keeps raw-input aliases (Node), which let a warm start skip parsing. */
let useAliases = false
/** undefined: not chosen yet (a browser opens IndexedDB on first need); null: none. */
let store: KernelStore | null | undefined
let storeFactory: (() => Promise<KernelStore | null>) | null = null
/** Compiles off the main thread where the environment can (Node: a worker thread). */
let compileOffThread: ((input: CompileInput) => Promise<CompileResult>) | null = null

/** The compiler (acorn + binaryen), loaded on first need only. */
export function loadCompiler(): Promise<Compiler> {
  return (compilerPromise ??= import('@kiln/compiler'))
}

function loadKeyModule(): Promise<KeyModule> {
  if (keyModule) return Promise.resolve(keyModule)
  return (keyModulePromise ??= import('@kiln/compiler/key'))
}

/** Wires the environment's key function and persistent store (called by the entry points). */
export function configureStore(options: {
  keyModuleSync?: () => KeyModule
  aliases?: boolean
  store?: KernelStore | null
  storeFactory?: () => Promise<KernelStore | null>
  compile?: (input: CompileInput) => Promise<CompileResult>
}): void {
  if (options.compile) compileOffThread = options.compile
  if (options.keyModuleSync) keyModuleSync = options.keyModuleSync
  if (options.aliases !== undefined) useAliases = options.aliases
  if (options.store !== undefined) store = options.store
  if (options.storeFactory) storeFactory = options.storeFactory
}

async function getStore(): Promise<KernelStore | null> {
  if (store === undefined) store = storeFactory ? await storeFactory().catch(() => null) : null
  return store
}

export interface KernelSource {
  id: string
  code: string
  helpers: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
}

export interface ModuleRequest {
  source: KernelSource
  signature: string
  assume?: Assumptions
  /** Look in and write to the persistent store (`cache: true`). */
  persistent: boolean
}

export type Origin = 'aot' | 'store' | 'compiled'

export interface CompiledKernel {
  key: string
  module: WebAssembly.Module
  meta: KernelMeta
  origin: Origin
}

export interface ReadyKernel {
  /** Calls the module's export with the wasm arguments in `w` (a direct call by arity: `apply` costs ~15 ns a call). */
  call: (w: number[]) => number | undefined
  meta: KernelMeta
  origin: Origin
  /** The globals through which the module reads and writes array parameters' property "undefined" (see `KernelMeta.undefinedKeys`). */
  undefinedKeys: UndefinedKey[] | null
}

export interface UndefinedKey {
  param: number
  /** 0 absent, 1 a number in `value`, 2 the value undefined. */
  state: WebAssembly.Global
  value: WebAssembly.Global
}

/** key → compiled module, shared by every kernel in this process or page. */
const modules = new Map<string, Promise<CompiledKernel>>()
const modulesReady = new Map<string, CompiledKernel>()

const counters = { hits: 0, misses: 0, memoryHits: 0, storeHits: 0, compiles: 0, compileMs: 0, bytesRead: 0, bytesWritten: 0 }

/** Cache statistics of this process (or page). */
export function stats(): Readonly<typeof counters> {
  return { ...counters }
}

function debugEnabled(): boolean {
  const env = typeof process !== 'undefined' ? process.env?.KILN_DEBUG_CACHE : undefined
  return (env !== undefined && env !== '' && env !== '0') || (globalThis as { KILN_DEBUG_CACHE?: unknown }).KILN_DEBUG_CACHE === true
}

function logLookup(req: ModuleRequest, outcome: string): void {
  if (!debugEnabled()) return
  const variant = req.assume ? ` [${variantLabel(req.assume)}]` : ''
  console.error(`[kiln cache] ${req.source.id} ${req.signature}${variant}: ${outcome}`)
}

export function variantLabel(a: Assumptions): string {
  const ranges = (a.intRanges ?? []).flatMap((r, i) => (r ? [`p${i}∈[${r[0]},${r[1]}]`] : []))
  return [...ranges, a.trapOutOfBounds ? 'speculative' : 'safe', ...(a.simd ? ['simd128'] : [])].join(' ')
}

/** The cache key of a request (loads the key module, not the compiler, where it is not loaded). */
export async function requestKey(req: ModuleRequest): Promise<KernelKey> {
  return (await loadKeyModule()).kernelKey(keyInput(req))
}

function keyInput(req: ModuleRequest): KeyInput {
  return { source: req.source.code, deps: req.source.helpers, constants: req.source.constants, signature: req.signature, assume: req.assume }
}

/** The raw-input text of a request, where the store keeps aliases (see @kiln/compiler/raw). */
function rawInput(req: ModuleRequest): string | null {
  if (!useAliases) return null
  return rawKeyText({ source: req.source.code, deps: req.source.helpers, constants: req.source.constants, signature: req.signature, assume: req.assume })
}

/** Counts and logs a hit; returns `value` (for `return countHit(...)`). */
function countHit<T>(req: ModuleRequest, where: string, value: T, bytes?: number): T {
  counters.hits++
  if (where === 'memory') counters.memoryHits++
  else {
    counters.storeHits++
    counters.bytesRead += bytes ?? 0
  }
  logLookup(req, `hit ${where}`)
  return value
}

function remember(compiled: CompiledKernel): CompiledKernel {
  modulesReady.set(compiled.key, compiled)
  if (!modules.has(compiled.key)) modules.set(compiled.key, Promise.resolve(compiled))
  return compiled
}

/**
 * A module without waiting: from the memory cache, or from a store that reads synchronously
 * (the Node file store). Null when neither has it; the caller then compiles in the background.
 */
export function compileSync(req: ModuleRequest): CompiledKernel | null {
  if (!keyModule && !keyModuleSync) return null
  const syncStore = req.persistent && store?.getSync ? store : null
  const key = keySync(req, syncStore)
  const known = modulesReady.get(key)
  if (known) return countHit(req, 'memory', known)
  if (!syncStore) return null
  const found = syncStore.getSync!(key)
  if (!found.entry) return null
  countHit(req, syncStore.name, null, found.bytes)
  return remember({ key, module: new WebAssembly.Module(found.entry.wasm as Uint8Array<ArrayBuffer>), meta: found.entry.meta, origin: 'store' })
}

/** Whether the memory cache or a synchronous store holds the module (without loading it). */
export function isStoredSync(req: ModuleRequest): boolean {
  const syncStore = req.persistent && store?.hasSync ? store : null
  if (!syncStore || (!keyModule && !keyModuleSync)) return false
  const key = keySync(req, syncStore)
  return modulesReady.has(key) || syncStore.hasSync!(key)
}

/**
 * A request's key without waiting. Fast path: the store's raw-input alias names it, so nothing
 * needs parsing. Otherwise the key module computes it, and the alias is written even when no
 * entry exists (it is the key's own, not an entry's): the next start looking for a module not
 * stored yet (a range variant whose script ended before it compiled) does not load the key
 * module to learn it again.
 */
function keySync(req: ModuleRequest, syncStore: KernelStore | null): string {
  const raw = syncStore?.aliasGet ? rawInput(req) : null
  const aliased = raw ? syncStore!.aliasGet!(raw) : null
  if (aliased) return aliased
  const key = (keyModule ??= keyModuleSync!()).kernelKey(keyInput(req)).key
  if (raw) syncStore!.aliasPut?.(raw, key)
  return key
}

/** Finds (memory, then store) or compiles one kernel for one signature and variant. */
export async function compileKernelModule(req: ModuleRequest): Promise<CompiledKernel> {
  const keys = await loadKeyModule()
  const { key, parts } = keys.kernelKey(keyInput(req))
  const hit = modules.get(key)
  if (hit) return countHit(req, 'memory', hit)
  const pending = (async (): Promise<CompiledKernel> => {
    const persistent = req.persistent ? await getStore() : null
    if (persistent) {
      const found = await persistent.get(key)
      if (found.entry) {
        countHit(req, persistent.name, null, found.bytes)
        rememberAlias(persistent, req, key)
        return remember({ key, module: await WebAssembly.compile(found.entry.wasm as Uint8Array<ArrayBuffer>), meta: found.entry.meta, origin: 'store' })
      }
      if (debugEnabled()) {
        const prev = await persistent.previous(req.source.id, parts)
        const why = found.corrupt ? `entry corrupt (${found.corrupt})` : explainMiss(parts, prev.parts, prev.otherSignatures)
        logLookup(req, `miss ${persistent.name} — ${why}`)
      }
    } else {
      logLookup(req, req.persistent ? 'miss (no persistent store)' : 'miss memory')
    }
    counters.misses++
    const started = performance.now()
    const kernelText: SourceText = { code: req.source.code, file: req.source.id }
    const input: CompileInput = { source: kernelText, name: req.source.id, deps: req.source.helpers, constants: req.source.constants, signature: req.signature, assume: req.assume }
    const result = compileOffThread ? await compileOffThread(input) : (await loadCompiler()).compileKernel(input)
    counters.compiles++
    counters.compileMs += performance.now() - started
    if (!result.ok) throw new KilnError(result.diagnostics, result.sources)
    if (persistent) {
      const entry: StoredEntry = {
        key, id: req.source.id, parts, meta: result.meta, wasm: result.wasm,
        recipe: { source: req.source.code, deps: req.source.helpers, constants: req.source.constants, signature: req.signature, assume: req.assume },
      }
      const written = await persistent.put(entry)
      counters.bytesWritten += written
      rememberAlias(persistent, req, key)
    }
    return remember({ key, module: await WebAssembly.compile(result.wasm as Uint8Array<ArrayBuffer>), meta: result.meta, origin: 'compiled' })
  })()
  modules.set(key, pending)
  pending.catch(() => modules.delete(key))
  return pending
}

function rememberAlias(s: KernelStore, req: ModuleRequest, key: string): void {
  const raw = s.aliasPut ? rawInput(req) : null
  if (raw) s.aliasPut!(raw, key)
}

/** The host functions a kernel module imports. */
export function kernelImports(): WebAssembly.Imports {
  return {
    env: { memory: kernelMemory().memory },
    Math: Math as unknown as WebAssembly.ModuleImports,
    kiln: { mod: (a: number, b: number) => a % b },
  }
}

function ready(instance: WebAssembly.Instance, compiled: CompiledKernel): ReadyKernel {
  const exports = instance.exports as Record<string, unknown>
  if (compiled.meta.constBytes > 0) {
    const base = kernelMemory().permanent(compiled.meta.constBytes)
    ;(exports.__kiln_init as (base: number) => void)(base)
  }
  const undefinedKeys = compiled.meta.undefinedKeys?.map((param) => ({
    param,
    state: exports[`__kiln_undefined_state_${param}`] as WebAssembly.Global,
    value: exports[`__kiln_undefined_value_${param}`] as WebAssembly.Global,
  })) ?? null
  const call = withUndefinedResult(byArity(exports[compiled.meta.exportName] as (...args: number[]) => number), compiled.meta, exports)
  return { call, meta: compiled.meta, origin: compiled.origin, undefinedKeys }
}

/** A caller of a wasm export that passes `w`'s elements as direct arguments (its `length` is its wasm arity). */
function byArity(fn: (...args: number[]) => number): ReadyKernel['call'] {
  switch (fn.length) {
    case 0: return () => fn()
    case 1: return (w) => fn(w[0])
    case 2: return (w) => fn(w[0], w[1])
    case 3: return (w) => fn(w[0], w[1], w[2])
    case 4: return (w) => fn(w[0], w[1], w[2], w[3])
    case 5: return (w) => fn(w[0], w[1], w[2], w[3], w[4])
    case 6: return (w) => fn(w[0], w[1], w[2], w[3], w[4], w[5])
    case 7: return (w) => fn(w[0], w[1], w[2], w[3], w[4], w[5], w[6])
    case 8: return (w) => fn(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
    default: return (w) => fn.apply(undefined, w)
  }
}

/** A kernel whose result may be `undefined` gives it as such (see `KernelMeta.undefinedResult`). */
function withUndefinedResult(call: ReadyKernel['call'], meta: KernelMeta, exports: Record<string, unknown>): ReadyKernel['call'] {
  if (!meta.undefinedResult) return call
  if (meta.result === 'bool') {
    return (w) => {
      const r = call(w)
      return r === 2 ? undefined : r
    }
  }
  const flag = exports.__kiln_undefined as WebAssembly.Global
  // (Reading a global costs ~20 ns; an undefined result is a NaN, so only a NaN reads it.)
  return (w) => {
    const r = call(w)
    return r !== r && flag.value ? undefined : r
  }
}

/** Instantiates a compiled kernel in the shared memory, initializing its constant region. */
export async function instantiateKernel(compiled: CompiledKernel): Promise<ReadyKernel> {
  return ready(await WebAssembly.instantiate(compiled.module, kernelImports()), compiled)
}

export function instantiateKernelSync(compiled: CompiledKernel): ReadyKernel {
  return ready(new WebAssembly.Instance(compiled.module, kernelImports()), compiled)
}
