// kernel(fn, options): a synchronous callable that runs compiled wasm for the call's signature
// when it is ready, and the function itself as plain JS (same results) until then.

import type { Assumptions } from '@kiln/compiler'
import { formatParams, parseSignature, SignatureError, type ParamType, type ResultType } from '@kiln/compiler/signature'
import { argsMatch, coerceArgs, coerceResult, detectParams, needsCoercion, noSignatureError, variantAssumptions, variantClass } from './args.js'
import { loadArtifacts, type AotModule, type ArtifactRef, type PluginData } from './artifacts.js'
import { KilnError } from './errors.js'
import { simdSupported } from './features.js'
import { plainFunction, registerHot } from './hot.js'
import { compileKernelModule, compileSync, instantiateKernel, instantiateKernelSync, isStoredSync, requestKey, variantLabel, type KernelSource, type ModuleRequest, type ReadyKernel, type UndefinedKey } from './loader.js'
import { kernelMemory, type TypedArray, type TypedArrayConstructor } from './memory.js'

/** What serves a signature: a precompiled artifact, a persistent store, a compile in this process, or plain JS. */
export type Tier = 'aot' | 'store' | 'compiled' | 'js'

export interface KernelOptions {
  /** Keep compiled modules in the persistent caches (file store, IndexedDB). @default false */
  cache?: boolean
  /** Signatures to compile eagerly, e.g. `['(f64[], f64) => void']`; arguments are coerced to them. @default [] */
  signatures?: string[]
  /** Helper functions and module-scope constants the kernel uses, by name. The Vite plugin fills this in. @default {} */
  deps?: Record<string, unknown>
  /** Kernel id in messages and cache entries. @default fn.name */
  name?: string
  /** Written by @kiln/vite: the kernel's id, sources, constants and precompiled artifacts. */
  __kiln?: PluginData
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => any

export type Kernel<F extends AnyFunction> = F & {
  /** Waits until every declared signature is compiled (rejects with a KilnError if one fails). */
  ready(): Promise<void>
  /** Compiles one signature (or waits for it) and resolves when calls with it run wasm. */
  compile(signature: string): Promise<void>
  /** What serves calls with this signature now. */
  tier(signature: string): Tier
  /** The kernel id. */
  readonly id: string
  /** Signatures known so far (declared and specialized). */
  signatures(): string[]
  /** The guarded value-range variants compiled and ready for a signature, e.g. `len≤16777216 p3∈[0,1024]`. */
  specializations(signature: string): string[]
  /** The cache key of the general module for a signature, with its parts. */
  cacheKey(signature: string): Promise<{ key: string; parts: import('@kiln/compiler').KeyParts }>
}

/** A module specialized on guarded value ranges (see `variantClass`). */
interface Variant {
  ready: ReadyKernel | null
  pending: Promise<void>
  /**
   * The same variant without speculation on in-bounds loads: used once a speculative call
   * trapped, and when a call cannot be undone cheaply.
   */
  safe: Variant | null
  /** A speculative call of this class trapped: do not speculate again. */
  bailed: boolean
  /** It did not compile: the general module serves its class (never retried). */
  failed: boolean
}

/**
 * Zero-copy arrays a speculative call may write are snapshotted first, up to this many bytes
 * (past it, the call runs the variant's safe twin). A snapshot is one copy of what the call
 * writes, into a buffer reused across calls; speculative variants keep integer loads in i32,
 * which is worth more than that copy (image kernels run 1.5–2× faster than their safe twins).
 */
const SNAPSHOT_LIMIT = 16 * 1024 * 1024

/** Where snapshots are kept (grown as needed, reused). */
let snapshotStore = new Uint8Array(0)

interface Entry {
  params: ParamType[]
  paramKey: string
  /** Signature text given to the compiler. */
  signature: string
  declaredResult: ResultType | null
  coerce: boolean
  tier: Tier
  ready: ReadyKernel | null
  pending: Promise<void> | null
  error: KilnError | null
  /** Reused wasm argument list (calls are synchronous and never reentrant). */
  wasmArgs: number[]
  /** Position of each parameter's first wasm argument. */
  argPos: number[]
  written: boolean[]
  hasArrays: boolean
  /** Whether calls can use range-specialized variants (the kernel takes arrays or numbers). */
  specializable: boolean
  variants: Map<number, Variant>
  /** Declared in `signatures`: compiled eagerly (or loaded from a store on first need). */
  declared: boolean
  /** Served by a precompiled artifact: never compiled or specialized at run time. */
  aot: boolean
  /** Precompiled range variants (tier `aot`), tried in order before the general artifact. */
  aotVariants: AotVariant[]
}

/** A range variant the build precompiled: used for calls that meet its guards. */
interface AotVariant {
  assume: Assumptions
  ready: ReadyKernel
  /** A speculative call trapped: the general artifact serves its calls from then on. */
  bailed: boolean
}

/** Whether a call's arguments meet a variant's guards (array lengths, integer scalar ranges). */
function meetsGuards(params: readonly ParamType[], assume: Assumptions, args: readonly unknown[]): boolean {
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    if (p.kind === 'array') {
      if (assume.maxLength !== undefined && (args[i] as TypedArray).length > assume.maxLength) return false
      continue
    }
    const r = assume.intRanges?.[i]
    if (!r) continue
    const v = args[i] as number
    if ((v | 0) !== v || v < r[0] || v > r[1] || (v === 0 && 1 / v < 0)) return false
  }
  return true
}

/**
 * A function's source as a function expression: method shorthand (`scale(x) { … }`, from an
 * object or class) gets its `function` keyword. Native, bound and Proxy functions have no source
 * to compile: a coded error naming them.
 */
export function sourceOf(fn: AnyFunction, what: string): string {
  let text: string
  try {
    text = Function.prototype.toString.call(fn)
  } catch {
    throw KilnError.of('KILN_NOT_FUNCTION', `${what} is a Proxy, which has no source to compile`, ['pass the function itself'])
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    throw KilnError.of('KILN_NOT_FUNCTION', `${what} is a native or bound function, which has no source to compile`, ['pass the original function (not fn.bind(…)) and its helpers in deps'])
  }
  const method = /^(async\s+)?(\*\s*)?(?!(?:function|async|class)\b)([A-Za-z_$][\w$]*)\s*\(/.exec(text)
  if (!method) return text
  const rest = text.slice((method[1]?.length ?? 0) + (method[2]?.length ?? 0))
  return `${method[1] ?? ''}function${method[2] ? '*' : ''} ${rest}`
}

function splitDeps(id: string, deps: Record<string, unknown>): Pick<KernelSource, 'helpers' | 'constants'> {
  const helpers: Record<string, string> = {}
  const constants: Record<string, number | boolean | readonly number[]> = {}
  if (deps === null || typeof deps !== 'object') throw KilnError.of('KILN_BAD_ARGUMENT', `kernel ${id}: deps must be an object of helpers and constants, got ${deps === null ? 'null' : typeof deps}`)
  for (const [name, v] of Object.entries(deps)) {
    if (typeof v === 'function') helpers[name] = sourceOf(v as AnyFunction, `kernel ${id}: helper \`${name}\``)
    else if (typeof v === 'number' || typeof v === 'boolean') constants[name] = v
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) constants[name] = v.slice()
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) constants[name] = Array.from(v as unknown as ArrayLike<number>)
    else {
      throw KilnError.of('KILN_BAD_CONSTANT', `kernel ${id}: dependency \`${name}\` is ${v === null ? 'null' : typeof v}, which is neither a helper function nor a constant`, [
        'deps hold helper functions and constants (numbers, booleans, arrays of numbers); pass anything else as an argument',
      ])
    }
  }
  return { helpers, constants }
}

/** Options of the wrong kind are a coded error, not a TypeError from deep inside. */
function checkOptions(options: unknown, name: string): asserts options is KernelOptions {
  const bad = (what: string): never => {
    throw KilnError.of('KILN_BAD_ARGUMENT', `kernel ${name}: ${what}`, ['options are { signatures?: string[], deps?: { … }, cache?: boolean, name?: string }'])
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad(`options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`)
  const o = options as Record<string, unknown>
  if (o.signatures !== undefined && (!Array.isArray(o.signatures) || !o.signatures.every((s) => typeof s === 'string'))) bad('signatures must be an array of signature strings, such as [\'(f64[], f64) => void\']')
  if (o.deps !== undefined && (o.deps === null || typeof o.deps !== 'object' || Array.isArray(o.deps))) bad('deps must be an object of helpers and constants')
  if (o.cache !== undefined && typeof o.cache !== 'boolean') bad('cache must be true or false')
  if (o.name !== undefined && typeof o.name !== 'string') bad('name must be a string')
}

export function kernel<F extends AnyFunction>(fn: F, options: KernelOptions = {}): Kernel<F> {
  if (typeof fn !== 'function') throw KilnError.of('KILN_NOT_FUNCTION', `kernel() takes a function, got ${fn === null ? 'null' : typeof fn}`)
  checkOptions(options, (options as { name?: unknown } | null)?.name as string ?? (fn.name || 'kernel'))
  const plugin = options.__kiln
  const id = plugin?.id ?? options.name ?? (fn.name || 'kernel')
  /** Under a dev server, signatures nobody declared are compiled by the server, not here. */
  const devServer = plugin?.dev ?? null
  /** The plain-JS tier: the function itself, or after a hot swap, the same built from the new sources. */
  let plain: AnyFunction = fn
  let source: KernelSource = plugin
    ? { id, code: plugin.source, helpers: plugin.helpers, constants: plugin.constants }
    : { id, code: sourceOf(fn, `kernel ${id}`), ...splitDeps(id, options.deps ?? {}) }
  const warnedSignatures = new Set<string>()
  /** Signatures whose variants hit an internal error (said once each). */
  const warnedInternal = new Set<string>()
  const entries: Entry[] = []
  const byKey = new Map<string, Entry>()
  const declared: Entry[] = []
  let last: Entry | null = null

  const makeEntry = (params: ParamType[], result: ResultType | null): Entry => {
    const paramKey = formatParams(params)
    const existing = byKey.get(paramKey)
    if (existing) return existing
    const argPos: number[] = []
    let n = 0
    for (const p of params) {
      argPos.push(n)
      n += p.kind === 'array' ? 2 : 1
    }
    const e: Entry = {
      params, paramKey, signature: result === null ? paramKey : `${paramKey} => ${result}`, declaredResult: result,
      coerce: needsCoercion(params), tier: 'js', ready: null, pending: null, error: null,
      wasmArgs: new Array(n).fill(0), argPos, written: params.map(() => false), hasArrays: params.some((p) => p.kind === 'array'),
      specializable: params.some((p) => p.kind === 'array' || p.type !== 'bool'), variants: new Map(), declared: false, aot: false, aotVariants: [],
    }
    entries.push(e)
    byKey.set(paramKey, e)
    return e
  }

  const parse = (signature: string): { params: ParamType[]; result: ResultType | null } => {
    try {
      return parseSignature(signature)
    } catch (err) {
      if (err instanceof SignatureError) throw KilnError.of('KILN_SIGNATURE', `kernel ${id}: ${err.message}`)
      throw err
    }
  }

  /** Serves an entry with a precompiled (or dev-server-compiled) module: tier 'aot', no compiler. */
  const install = (a: AotModule): Entry => {
    const sig = parse(a.signature)
    const e = makeEntry(sig.params, sig.result)
    if (a.assume) {
      // A range variant: beside the general artifact, for the calls that meet its guards.
      if (!a.module) return e
      try {
        e.aotVariants.push({ assume: a.assume, ready: instantiateKernelSync({ key: a.key, module: a.module, meta: a.meta, origin: 'aot' }), bailed: false })
      } catch (err) {
        console.error(`[kiln] KILN_ARTIFACT: kernel ${id} ${a.signature} (${variantLabel(a.assume)}): its artifact does not instantiate (${err instanceof Error ? err.message : String(err)}); the general artifact serves these calls`)
      }
      return e
    }
    e.aotVariants = []
    e.declared = true
    e.aot = true
    e.pending = Promise.resolve()
    e.error = null
    e.variants.clear()
    let ready: ReadyKernel | null = null
    if (a.module) {
      try {
        ready = instantiateKernelSync({ key: a.key, module: a.module, meta: a.meta, origin: 'aot' })
      } catch (err) {
        console.error(`[kiln] KILN_ARTIFACT: kernel ${id} ${a.signature}: its artifact does not instantiate (${err instanceof Error ? err.message : String(err)}); it runs as plain JS (rebuild and redeploy the app)`)
      }
    }
    // An artifact that could not be used (said by loadArtifacts): plain JS, without loading the compiler.
    e.ready = ready
    e.tier = ready ? 'aot' : 'js'
    if (ready) e.written = ready.meta.params.map((p) => p.written)
    return e
  }

  // Precompiled artifacts serve their signatures from the start.
  for (const a of plugin?.artifacts ?? []) install(a)

  for (const s of options.signatures ?? []) {
    const sig = parse(s)
    const e = makeEntry(sig.params, sig.result)
    e.declared = true
    if (!e.aot) declared.push(e)
  }

  const persistent = options.cache === true
  const request = (e: Entry, assume?: ModuleRequest['assume']): ModuleRequest => ({ source, signature: e.signature, assume, persistent })

  /** Serves a module without waiting when the memory cache or a synchronous store has it. */
  const loadNow = (req: ModuleRequest): ReadyKernel | null => {
    const compiled = compileSync(req)
    return compiled ? instantiateKernelSync(compiled) : null
  }

  const useReady = (e: Entry, ready: ReadyKernel): void => {
    e.written = ready.meta.params.map((p) => p.written)
    if (e.tier === 'js' || (ready.origin === 'store' && e.tier !== 'aot')) e.tier = ready.origin
  }

  const startCompile = (e: Entry): Promise<void> => {
    if (e.pending) return e.pending
    if (devServer) {
      e.pending = compileOnServer(devServer.compile, id, e.signature)
        .then(loadArtifacts)
        .then(([a]) => void install(a))
        .catch((err: unknown) => {
          e.pending = null
          e.error = err instanceof KilnError ? err : KilnError.of('KILN_INTERNAL', String(err instanceof Error ? err.message : err))
          throw e.error
        })
      return e.pending
    }
    const now = loadNow(request(e))
    if (now) {
      e.ready = now
      useReady(e, now)
      return (e.pending = Promise.resolve())
    }
    e.pending = compileKernelModule(request(e))
      .then(instantiateKernel)
      .then((ready) => {
        e.ready = ready
        useReady(e, ready)
        e.error = null
      })
      .catch((err: unknown) => {
        e.error = err instanceof KilnError ? err : KilnError.of('KILN_INTERNAL', String(err))
        throw e.error
      })
    return e.pending
  }

  const compileInBackground = (e: Entry): void => {
    startCompile(e).catch((err: KilnError) => {
      console.error(`[kiln] kernel ${id} ${e.signature} stays plain JS: it does not compile.\n${err.message}`)
    })
  }

  /**
   * Compiles the variant for a class of calls in the background (the general module or plain
   * JS serves meanwhile): speculative on in-bounds integer loads unless `safe`.
   */
  const startVariant = (e: Entry, cls: number, safe: boolean): Variant => {
    const v: Variant = { ready: null, pending: Promise.resolve(), safe: null, bailed: false, failed: false }
    const req = request(e, { ...variantAssumptions(e.params, cls), trapOutOfBounds: !safe, ...(simdSupported() ? { simd: true } : {}) })
    const arrive = (ready: ReadyKernel): Promise<void> | undefined => {
      v.ready = ready
      useReady(e, ready)
      // Calls whose writes are too large to undo need the safe twin: have it ready too.
      if (ready.meta.speculative) return (v.safe ??= startVariant(e, cls, true)).pending
    }
    if (!safe) e.variants.set(cls, v)
    const now = loadNow(req)
    if (now) {
      v.pending = Promise.resolve(arrive(now))
      return v
    }
    v.pending = compileKernelModule(req)
      .then(instantiateKernel)
      .then(arrive)
      .catch((err: unknown) => {
        v.failed = true
        // The general module serves this class now. An error in the kernel itself fails it too,
        // and it reports that; anything else is Kiln's bug, said here once per signature.
        if (!e.pending) compileInBackground(e)
        if (err instanceof KilnError && err.code !== 'KILN_INTERNAL') return
        if (warnedInternal.has(e.paramKey)) return
        warnedInternal.add(e.paramKey)
        console.error(`[kiln] KILN_INTERNAL: kernel ${id} ${e.signature}: a range-specialized variant (${variantLabel(req.assume!)}) hit an internal compiler error; the general module serves these calls instead. This is a bug in Kiln: please report it with the kernel's source.\n${err instanceof Error ? err.message : String(err)}`)
      })
    return v
  }

  /** Runs a variant; a speculative one that cannot run or trapped hands over to its safe twin. */
  const runVariant = (e: Entry, cls: number, v: Variant, args: unknown[]): unknown => {
    const ready = v.ready!
    const speculate = ready.meta.speculative
    if (speculate && !v.bailed && !ready.meta.mathImports.includes('random/0')) {
      const out = invoke(e, ready, args, true)
      if (out !== BAILED && out !== NOT_SPECULATED) return out === NOT_RUN ? NOT_RUN : coerceResult(ready.meta.result, out)
      if (out === BAILED) v.bailed = true
    } else if (!speculate) {
      const out = invoke(e, ready, args, false)
      return out === NOT_RUN ? NOT_RUN : coerceResult(ready.meta.result, out)
    }
    const safe = (v.safe ??= startVariant(e, cls, true))
    if (!safe.ready) return NOT_RUN
    const out = invoke(e, safe.ready, args, false)
    return out === NOT_RUN ? NOT_RUN : coerceResult(safe.ready.meta.result, out)
  }

  const findEntry = (args: unknown[]): Entry => {
    if (last && argsMatch(last.params, args)) return last
    for (const e of entries) if (argsMatch(e.params, args)) return (last = e)
    const detected = detectParams(args)
    if (typeof detected === 'string') throw noSignatureError(id, args, entries.map((e) => e.signature), detected)
    if (declared.length > 0 && detected.length !== declared[0].params.length) {
      throw noSignatureError(id, args, entries.map((e) => e.signature), `it takes ${declared[0].params.length} arguments`)
    }
    const e = makeEntry(detected, null)
    if (plugin?.artifacts && !devServer) notPrecompiled(e)
    return (last = e)
  }

  /** A built app calling a signature its build did not precompile: say which to add (or refuse). */
  const notPrecompiled = (e: Entry): void => {
    const message = `kernel ${id} was called with ${e.paramKey}, which the build did not precompile; add '${e.paramKey} => …' to its signatures (it now compiles at run time, loading the compiler)`
    if (plugin?.strict) throw KilnError.of('KILN_NOT_PRECOMPILED', message)
    if (!warnedSignatures.has(e.paramKey)) {
      warnedSignatures.add(e.paramKey)
      console.warn(`[kiln] KILN_NOT_PRECOMPILED: ${message}`)
    }
  }

  /**
   * The last call's route, when it took nothing but a module call: zero-copy arrays, no
   * coercion, no snapshot, no "undefined" property. A call with arguments of the same kinds
   * and variant class takes it without the general dispatch (tiny kernels, such as a 4×4
   * matrix product, are mostly dispatch). Identity checks on the module keep it never stale.
   */
  let fast: FastRoute | null = null

  const call = function (this: unknown, ...args: unknown[]): unknown {
    const f = fast
    if (f !== null) {
      const out = callFast(f, args)
      if (out !== NOT_RUN) return out
    }
    return dispatch(args)
  } as Kernel<F>

  /** Runs the first precompiled variant whose guards the call meets, or NOT_RUN (the general artifact runs it). */
  const runAotVariant = (e: Entry, args: unknown[]): unknown => {
    for (const v of e.aotVariants) {
      if (v.bailed || !meetsGuards(e.params, v.assume, args)) continue
      const out = invoke(e, v.ready, args, v.ready.meta.speculative)
      if (out === BAILED) v.bailed = true
      if (out === BAILED || out === NOT_SPECULATED || out === NOT_RUN) return NOT_RUN
      return coerceResult(v.ready.meta.result, out)
    }
    return NOT_RUN
  }

  /** Remembers the route a call just took when `callFast` can repeat it. */
  const noteRoute = (e: Entry, cls: number, v: Variant | null, ready: ReadyKernel, args: unknown[]): void => {
    if (ready.undefinedKeys !== null) return
    // The general module is taken by values no variant class covers (class -1), and by a class
    // whose variant is still compiling or did not compile: the route checks the class, and
    // that its variant has not become ready since.
    const classed = e.specializable && !e.aot && !devServer
    const classVariant = v === null && classed && cls >= 0 ? e.variants.get(cls) ?? null : null
    if (v === null && ((classed && cls >= 0 && (classVariant === null || classVariant.ready !== null)) || e.aotVariants.length > 0)) return
    const mem = kernelMemory()
    const kinds: FastRoute['kinds'] = []
    for (let i = 0; i < e.params.length; i++) {
      const p = e.params[i]
      if (p.kind === 'array') {
        if (!mem.isAllocated(args[i] as TypedArray)) return
        kinds.push((args[i] as object).constructor)
      } else kinds.push(p.type === 'bool' ? 'bool' : p.type === 'i32' || p.type === 'u32' || p.type === 'f32' ? p.type : 'number')
    }
    const written = ready.meta.speculative ? e.params.flatMap((p, i) => (p.kind === 'array' && e.written[i] ? [i] : [])) : []
    fast = { e, cls, v, ready, kinds, checkClass: v !== null || classed, written, classVariant }
  }

  const dispatch = (args: unknown[]): unknown => {
    const e = findEntry(args)
    if (e.coerce) coerceArgs(e.params, args)
    let cls = e.specializable && !e.aot && !devServer ? variantClass(e.params, args) : -1
    const argsClass = cls
    if (cls >= 0) {
      const v = e.variants.get(cls) ?? startVariant(e, cls, false)
      if (v.ready) {
        const out = runVariant(e, cls, v, args)
        if (out !== NOT_RUN) {
          if (!v.bailed) noteRoute(e, cls, v, v.ready, args)
          return out
        }
      }
      // A variant (or the safe twin it needs) that failed hands its class to the general module.
      if (v.failed || v.safe?.failed) cls = -1
    }
    if (e.aotVariants.length > 0 && e.ready) {
      const out = runAotVariant(e, args)
      if (out !== NOT_RUN) return out
    }
    if (e.declared && !e.pending) compileInBackground(e)
    if (e.ready) {
      const out = invoke(e, e.ready, args, false)
      if (out !== NOT_RUN) {
        noteRoute(e, argsClass, null, e.ready, args)
        return coerceResult(e.ready.meta.result, out)
      }
    } else if (!e.pending && cls < 0) {
      compileInBackground(e)
    }
    return coerceResult(e.declaredResult, plain.apply(undefined, args))
  }

  // Declared signatures compile eagerly, in the background. With a persistent store the check
  // waits for the current task to end, and one the store holds is loaded when first needed: a
  // warm first call (made right away) often needs only its variant, and reads nothing else.
  for (const e of declared) {
    if (!persistent) compileInBackground(e)
    else queueMicrotask(() => {
      if (!e.pending && !isStoredSync(request(e))) compileInBackground(e)
    })
  }

  if (plugin) {
    registerHot(id, call, (update, modules) => {
      source = { id, code: update.source, helpers: update.helpers, constants: update.constants }
      plain = (plainFunction(update) as AnyFunction | null) ?? plain
      const fresh = new Set(modules.map(install))
      // Signatures the update does not carry were compiled from the old sources: compile them again on next use.
      for (const e of entries) {
        if (fresh.has(e)) continue
        Object.assign(e, { ready: null, pending: null, error: null, tier: 'js', aot: false, aotVariants: [] })
        e.variants.clear()
      }
      last = null
      fast = null
    })
  }

  Object.defineProperty(call, 'id', { value: id })
  Object.defineProperty(call, 'name', { value: id })
  call.ready = async () => {
    // Background compiles do not keep Node alive by themselves; a caller waiting here does.
    const keepAlive = setInterval(() => {}, 1 << 30)
    try {
      await readyAll()
    } finally {
      clearInterval(keepAlive)
    }
  }
  const readyAll = async (): Promise<void> => {
    await Promise.all([
      ...declared.map(startCompile),
      ...entries.filter((e) => e.pending).map((e) => e.pending),
      ...entries.flatMap((e) => [...e.variants.values()].flatMap((v) => (v.safe ? [v.pending, v.safe.pending] : [v.pending]))),
    ])
  }
  call.compile = (signature: string) => {
    const sig = parse(signature)
    return startCompile(makeEntry(sig.params, sig.result))
  }
  call.tier = (signature: string): Tier => {
    const e = byKey.get(formatParams(parse(signature).params))
    if (e && e.tier === 'js' && e.declared && !e.pending) compileInBackground(e)
    return e?.tier ?? 'js'
  }
  call.signatures = () => entries.map((e) => e.signature)
  call.cacheKey = (signature: string) => {
    const sig = parse(signature)
    const e = byKey.get(formatParams(sig.params))
    return requestKey({ source, signature: e?.signature ?? signature, persistent })
  }
  call.specializations = (signature: string): string[] => {
    const e = byKey.get(formatParams(parse(signature).params))
    const ready = (v: Variant | null): string[] => (v?.ready ? [v.ready.meta.speculative ? v.ready.meta.variant : v.ready.meta.variant.replace(/ ?trap-oob$/, '')] : [])
    if (!e) return []
    const precompiled = e.aotVariants.filter((v) => !v.bailed).map((v) => v.ready.meta.variant)
    return [...new Set([...precompiled, ...[...e.variants.values()].flatMap((v) => [...ready(v), ...ready(v.safe)])])]
  }
  return call
}

/** Asks the dev server to compile a signature (the page never loads the compiler). */
async function compileOnServer(url: string, id: string, signature: string): Promise<ArtifactRef[]> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id, signature }) })
  const body = (await response.json().catch(() => ({}))) as { artifacts?: ArtifactRef[]; error?: string }
  if (!response.ok || !body.artifacts) throw KilnError.of('KILN_DEV_COMPILE', `kernel ${id} ${signature}: the dev server did not compile it (${body.error ?? `HTTP ${response.status}`})`)
  return body.artifacts
}

/** A call route `callFast` can repeat (see `fast` in `kernel`). */
interface FastRoute {
  e: Entry
  cls: number
  v: Variant | null
  ready: ReadyKernel
  /** Per parameter: the typed-array class of a zero-copy array, or the scalar's type (a number coerced to i32, u32 or f32). */
  kinds: (Function | 'number' | 'i32' | 'u32' | 'f32' | 'bool')[]
  /** Whether the route holds only for arguments of its variant class `cls`. */
  checkClass: boolean
  /** A speculative module's written arrays: snapshotted so that a trap leaves no trace. */
  written: number[]
  /** On the general module: the class's variant, compiling or failed (the route ends once it is ready). */
  classVariant: Variant | null
}

/** Repeats a route for arguments of the same kinds, or NOT_RUN (the full dispatch decides). */
function callFast(f: FastRoute, args: unknown[]): unknown {
  const { e, kinds } = f
  if (args.length !== kinds.length) return NOT_RUN
  // Still the module the full dispatch would take (a hot swap or a new variant replaces it).
  if (f.v === null ? e.ready !== f.ready : f.v.ready !== f.ready || f.v.bailed || e.variants.get(f.cls) !== f.v) return NOT_RUN
  if (f.classVariant !== null && (f.classVariant.ready !== null || e.variants.get(f.cls) !== f.classVariant)) return NOT_RUN
  const mem = kernelMemory()
  const w = e.wasmArgs
  const pos = e.argPos
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i]
    const a = args[i]
    if (k === 'number') {
      if (typeof a !== 'number') return NOT_RUN
      w[pos[i]] = a
    } else if (k === 'i32' || k === 'u32' || k === 'f32') {
      if (typeof a !== 'number') return NOT_RUN
      // Coerced in place, as the full dispatch does (its variant class is that of the coerced value).
      w[pos[i]] = args[i] = k === 'i32' ? a | 0 : k === 'u32' ? a >>> 0 : Math.fround(a)
    } else if (k === 'bool') {
      if (typeof a !== 'boolean') return NOT_RUN
      w[pos[i]] = a as unknown as number
    } else {
      if (a === null || typeof a !== 'object' || (a as object).constructor !== k || !mem.isAllocated(a as TypedArray)) return NOT_RUN
      w[pos[i]] = (a as TypedArray).byteOffset
      w[pos[i] + 1] = (a as TypedArray).length
    }
  }
  if (f.checkClass && variantClass(e.params, args) !== f.cls) return NOT_RUN
  if (!f.ready.meta.speculative) return coerceResult(f.ready.meta.result, f.ready.call(w))
  // A trap restores the written arrays; the full dispatch then runs the call again and bails the variant.
  let snapshots: Snapshot[] | null = null
  let bytes = 0
  for (const i of f.written) {
    bytes = snapshot(args[i] as TypedArray, (snapshots ??= []), bytes)
    if (bytes < 0) return NOT_RUN
  }
  const out = callUndoable(f.ready, w, snapshots)
  return out === BAILED ? NOT_RUN : coerceResult(f.ready.meta.result, out)
}

/** Where a snapshot of a zero-copy array's bytes is kept (see `invokeModule`). */
interface Snapshot { at: number; from: number; length: number }

/** Copies a zero-copy array's bytes into the snapshot store after `bytes` bytes; the new total, or -1 past the limit. */
function snapshot(a: TypedArray, snapshots: Snapshot[], bytes: number): number {
  if (bytes + a.byteLength > SNAPSHOT_LIMIT) return -1
  if (snapshotStore.length < bytes + a.byteLength) {
    const grown = new Uint8Array(Math.max(bytes + a.byteLength, snapshotStore.length * 2))
    grown.set(snapshotStore.subarray(0, bytes))
    snapshotStore = grown
  }
  snapshotStore.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), bytes)
  snapshots.push({ at: a.byteOffset, from: bytes, length: a.byteLength })
  return bytes + a.byteLength
}

const NOT_RUN = Symbol('not run')
const BAILED = Symbol('bailed out')
const NOT_SPECULATED = Symbol('not speculated')

/**
 * Runs the wasm export. Arrays already in kernel memory pass by pointer; others are copied in
 * (one copy per underlying buffer, so aliased views stay aliased) and, where the kernel writes
 * them, copied back. Returns NOT_RUN when staging room cannot be had (the caller runs plain JS).
 *
 * A speculative module traps on an out-of-bounds load. Such a call must leave no trace: copied
 * arrays are simply not copied back, and zero-copy arrays the kernel writes are snapshotted
 * before and restored after a trap (BAILED). When they are too large to snapshot, the call is
 * not made (NOT_SPECULATED).
 */
function invoke(e: Entry, ready: ReadyKernel, args: unknown[], speculative: boolean): unknown {
  const keys = ready.undefinedKeys
  if (keys === null) return invokeModule(e, ready, args, speculative)
  if (!passUndefinedKeys(keys, args)) return NOT_RUN
  const out = invokeModule(e, ready, args, speculative)
  if (out !== BAILED && out !== NOT_RUN && out !== NOT_SPECULATED) {
    for (const k of keys) {
      const state = k.state.value as number
      if (state !== 0) (args[k.param] as Record<string, unknown>).undefined = state === 1 ? k.value.value : undefined
    }
  }
  return out
}

/**
 * `a[undefined]` on a typed array is its ordinary property "undefined": the module reads and
 * writes it through globals, which this sets from the arrays. A call where two such arrays are
 * one object, or the property holds something other than a number or undefined, runs as JS.
 */
function passUndefinedKeys(keys: readonly UndefinedKey[], args: unknown[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    const a = args[keys[i].param] as Record<string, unknown>
    for (let j = 0; j < i; j++) if (args[keys[j].param] === a) return false
    if (!Object.prototype.hasOwnProperty.call(a, 'undefined')) {
      keys[i].state.value = 0
      continue
    }
    const v = a.undefined
    if (v !== undefined && typeof v !== 'number') return false
    keys[i].state.value = v === undefined ? 2 : 1
    keys[i].value.value = v === undefined ? 0 : v
  }
  return true
}

function invokeModule(e: Entry, ready: ReadyKernel, args: unknown[], speculative: boolean): unknown {
  const w = e.wasmArgs
  if (!e.hasArrays) {
    for (let i = 0; i < args.length; i++) w[i] = args[i] as number
    return speculative ? callUndoable(ready, w, null) : ready.call(w)
  }
  const mem = kernelMemory()
  let staged: number[] | null = null
  let snapshots: Snapshot[] | null = null
  let snapshotBytes = 0
  for (let i = 0; i < args.length; i++) {
    const p = e.params[i]
    const pos = e.argPos[i]
    if (p.kind === 'array') {
      const a = args[i] as TypedArray
      if (a.buffer === mem.buffer) {
        mem.checkLive(a)
        w[pos] = a.byteOffset
        w[pos + 1] = a.length
        if (speculative && e.written[i]) {
          snapshotBytes = snapshot(a, (snapshots ??= []), snapshotBytes)
          if (snapshotBytes < 0) return NOT_SPECULATED
        }
      } else {
        ;(staged ??= []).push(i)
      }
    } else {
      w[pos] = args[i] as number
    }
  }
  if (staged === null) return speculative ? callUndoable(ready, w, snapshots) : ready.call(w)
  const blocks = stageArrays(e, args, staged)
  if (blocks === null) return NOT_RUN
  try {
    const out = speculative ? callUndoable(ready, w, snapshots) : ready.call(w)
    if (out !== BAILED) {
      const buffer = mem.buffer
      for (const i of staged) {
        if (!e.written[i]) continue
        const a = args[i] as TypedArray
        // (Staged at the source's alignment, so a view of the array's own type fits.)
        if (a.byteLength > 0) a.set(new (a.constructor as TypedArrayConstructor)(buffer, w[e.argPos[i]], a.length) as never)
      }
    }
    return out
  } finally {
    for (const b of blocks) mem.release(b)
  }
}

/** Calls a speculative module; on a trap, restores the snapshots and returns BAILED. */
function callUndoable(ready: ReadyKernel, w: number[], snapshots: Snapshot[] | null): unknown {
  try {
    return ready.call(w)
  } catch (err) {
    if (!(err instanceof WebAssembly.RuntimeError)) throw err
    const buffer = kernelMemory().buffer
    if (snapshots) for (const s of snapshots) new Uint8Array(buffer, s.at, s.length).set(snapshotStore.subarray(s.from, s.from + s.length))
    return BAILED
  }
}

/**
 * Copies arrays into kernel memory, one region per source buffer (arrays that share a buffer
 * share a region, so aliasing stays as it is); fills their wasm arguments. Small stagings use
 * the call arena (nothing to release); the blocks to release are returned, or null when kernel
 * memory has no room (the call runs as JS).
 */
function stageArrays(e: Entry, args: unknown[], staged: number[]): number[] | null {
  const mem = kernelMemory()
  // Regions by buffer: [buffer, lo, hi] per distinct buffer, in first-seen order (few arrays: a scan beats a Map).
  const buffers: ArrayBufferLike[] = []
  const los: number[] = []
  const his: number[] = []
  const regionOf: number[] = []
  for (const i of staged) {
    const a = args[i] as TypedArray
    let r = buffers.indexOf(a.buffer)
    const end = a.byteOffset + a.byteLength
    if (r < 0) {
      r = buffers.push(a.buffer) - 1
      los.push(a.byteOffset)
      his.push(end)
    } else {
      los[r] = Math.min(los[r], a.byteOffset)
      his[r] = Math.max(his[r], end)
    }
    regionOf.push(r)
  }
  // Each region keeps its source's alignment modulo 8, so every element stays naturally aligned.
  let total = 0
  const offsets: number[] = []
  for (let r = 0; r < buffers.length; r++) {
    offsets.push(total + (los[r] % 8))
    total += Math.ceil((his[r] - los[r] + 8) / 8) * 8
  }
  const blocks: number[] = []
  let base = mem.callArena(total)
  if (base === null) {
    base = mem.stage(total)
    if (base === null) return null
    blocks.push(base)
  }
  for (let r = 0; r < buffers.length; r++) {
    const size = his[r] - los[r]
    // (A detached buffer reads as empty, as in JS: its arrays have length 0 and nothing to copy.)
    if (size > 0) new Uint8Array(mem.buffer, base + offsets[r], size).set(new Uint8Array(buffers[r], los[r], size))
  }
  staged.forEach((i, n) => {
    const a = args[i] as TypedArray
    const r = regionOf[n]
    const pos = e.argPos[i]
    e.wasmArgs[pos] = base! + offsets[r] + (a.byteOffset - los[r])
    e.wasmArgs[pos + 1] = a.length
  })
  return blocks
}
