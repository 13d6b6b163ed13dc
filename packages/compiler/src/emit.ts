// Typed instances → one optimized wasm module: imports (the shared memory, host Math, the
// exact `%`), runtime helpers on demand, the constant region, the `kernel` export.

import binaryen from 'binaryen'
import type { ConstValue, Instance } from './infer.js'
import { addRuntimeHelpers } from './builtins.js'
import { lowerFunction, wasmParams, wasmType, type ModuleContext } from './lower.js'
import { UNDEFINED_BITS } from './types.js'

export const features =
  binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory

export interface EmitInput {
  /** Instances, callees before callers; the last is the kernel. */
  instances: Instance[]
  root: Instance
  /** wasm parameter types of the kernel export, per source parameter. */
  rootAbi: binaryen.Type[][]
  constants: ReadonlyMap<string, ConstValue>
  optimizeLevel: number
  /** Whether loops may run two iterations at once in simd128 (vectorize.ts). */
  simd: boolean
}

export interface EmitOutput {
  wasm: Uint8Array
  /** Host Math functions imported, as `name/arity`. */
  mathImports: string[]
  /** Per kernel parameter: whether it is an array the kernel reads / writes. */
  arrayAccess: { read: boolean; written: boolean }[]
  /** Bytes the constant region needs (0: none, and no `__kiln_init` export). */
  constBytes: number
  /**
   * Kernel parameters whose property "undefined" the module reads or writes (an index that may
   * be undefined): each has exported globals `__kiln_undefined_state_<i>` and `__kiln_undefined_value_<i>`.
   */
  undefinedKeys: number[]
  /** Whether the module uses simd128 (engines without it need the module compiled without). */
  simd: boolean
}

export function emitWasm(input: EmitInput): EmitOutput {
  const m = new binaryen.Module()
  try {
    m.setFeatures(input.simd ? features | binaryen.Features.SIMD128 : features)
    // Binaryen binds loads and stores to the memory when they are built, so the (imported)
    // memory and its constant segment are set up before any function is lowered.
    const constLayout = new Map<string, { offset: number; length: number }>()
    let constBytes = 0
    for (const inst of input.instances) {
      for (const b of inst.func.names.values()) {
        const values = b.kind === 'const' ? input.constants.get(b.name) : undefined
        if (Array.isArray(values) && !constLayout.has((b as { name: string }).name)) {
          constLayout.set((b as { name: string }).name, { offset: constBytes, length: values.length })
          constBytes += values.length * 8
        }
      }
    }
    const segments = constBytes > 0 ? [constantSegment(constLayout, input.constants, constBytes)] : []
    m.setMemory(1, 65536, null, segments, false, false, 'mem')
    m.addMemoryImport('mem', 'env', 'memory')

    const helpers = new Set<string>()
    const mathImports = new Map<string, { name: string; arity: number }>()
    const access = new Map<Instance, Map<number, Set<'read' | 'write'>>>()
    const undefinedKeys = new Set<number>()
    let usedSimd = false

    const ctx: ModuleContext = {
      m,
      simd: input.simd,
      noteSimd() {
        usedSimd = true
      },
      constants: input.constants,
      constBase: 'kiln.constBase',
      helper(name) {
        helpers.add(name)
        return `kiln.${name}`
      },
      mathImport(name, arity) {
        const internal = `Math.${name}/${arity}`
        mathImports.set(internal, { name, arity })
        return internal
      },
      constArray(name) {
        const slot = constLayout.get(name)
        if (!slot) throw new Error(`internal: constant array ${name} was not laid out`)
        return slot
      },
      noteAccess(inst, varId, kind) {
        let perVar = access.get(inst)
        if (!perVar) access.set(inst, (perVar = new Map()))
        let kinds = perVar.get(varId)
        if (!kinds) perVar.set(varId, (kinds = new Set()))
        kinds.add(kind)
      },
      touches(inst, param, kind) {
        return access.get(inst)?.get(param)?.has(kind) ?? false
      },
      undefinedKey(origin) {
        undefinedKeys.add(origin)
        return { state: `kiln.undefinedState.${origin}`, value: `kiln.undefinedValue.${origin}` }
      },
    }

    for (const inst of input.instances) {
      const abi = inst === input.root ? input.rootAbi : inst.params.map(wasmParams)
      lowerFunction(ctx, inst, abi)
    }
    exportKernel(m, input.root, input.rootAbi)

    if (helpers.has('fmod') || helpers.has('toInt32') || helpers.has('round')) addRuntimeHelpers(m, helpers)
    for (const [internal, { name, arity }] of mathImports) {
      m.addFunctionImport(internal, 'Math', name, binaryen.createType(new Array(arity).fill(binaryen.f64)), binaryen.f64)
    }
    if (constBytes > 0) addConstantInit(m, ctx.constBase, constBytes)
    // Only empty constant arrays: every index is out of bounds, but the (dead) address still names the base.
    else if (constLayout.size > 0) m.addGlobal(ctx.constBase, binaryen.i32, false, m.i32.const(0))

    for (const origin of undefinedKeys) {
      const { state, value } = ctx.undefinedKey(origin)
      m.addGlobal(state, binaryen.i32, true, m.i32.const(0))
      m.addGlobal(value, binaryen.f64, true, m.f64.const(0))
      m.addGlobalExport(state, `__kiln_undefined_state_${origin}`)
      m.addGlobalExport(value, `__kiln_undefined_value_${origin}`)
    }

    if (!m.validate()) throw new Error('internal: generated module does not validate')
    binaryen.setOptimizeLevel(input.optimizeLevel)
    binaryen.setShrinkLevel(0)
    binaryen.setFlexibleInlineMaxSize(40)
    m.optimize()
    const wasm = m.emitBinary()
    const rootAccess = access.get(input.root)
    return {
      wasm,
      mathImports: [...mathImports.keys()].map((k) => k.slice('Math.'.length)),
      arrayAccess: input.root.params.map((t, i) => ({
        read: t.kind === 'array' && (rootAccess?.get(i)?.has('read') ?? false),
        written: t.kind === 'array' && (rootAccess?.get(i)?.has('write') ?? false),
      })),
      constBytes,
      undefinedKeys: [...undefinedKeys].sort((a, b) => a - b),
      simd: usedSimd,
    }
  } finally {
    m.dispose()
  }
}

/**
 * Exports the kernel. A number-or-undefined result leaves the export as an f64 and says
 * whether it is undefined in the exported global `__kiln_undefined` (JS cannot read a NaN's
 * bits reliably); a boolean-or-undefined result is returned as 0, 1 or 2.
 */
function exportKernel(m: binaryen.Module, root: Instance, rootAbi: binaryen.Type[][]): void {
  if (root.result.kind !== 'maybeNum' && root.result.kind !== 'undef') {
    m.addFunctionExport(root.id, 'kernel')
    return
  }
  const params = rootAbi.flat()
  const { f64, i32 } = binaryen
  m.addGlobal('kiln.undefined', i32, true, m.i32.const(0))
  m.addGlobalExport('kiln.undefined', '__kiln_undefined')
  const result = params.length
  const call = m.call(root.id, params.map((t, i) => m.local.get(i, t)), wasmType(root.result))
  m.addFunction('kiln.export', binaryen.createType(params), f64, [f64], m.block(null, [
    m.local.set(result, call),
    m.global.set('kiln.undefined', m.i64.eq(m.i64.reinterpret(m.local.get(result, f64)), m.i64.const(UNDEFINED_BITS))),
    m.local.get(result, f64),
  ], f64))
  m.addFunctionExport('kiln.export', 'kernel')
}

/**
 * Constant arrays live in kernel memory at a base the runtime allocates: a passive segment
 * copied by `__kiln_init(base)`, so instantiation never writes into memory others own.
 */
function constantSegment(layout: Map<string, { offset: number; length: number }>, constants: ReadonlyMap<string, ConstValue>, bytes: number): binaryen.MemorySegment {
  const data = new Uint8Array(bytes)
  const view = new DataView(data.buffer)
  for (const [name, { offset }] of layout) {
    const values = constants.get(name) as readonly number[]
    values.forEach((v, i) => view.setFloat64(offset + i * 8, v, true))
  }
  return { name: 'consts', offset: 0, data, passive: true } as binaryen.MemorySegment
}

function addConstantInit(m: binaryen.Module, baseGlobal: string, bytes: number): void {
  const { i32 } = binaryen
  m.addGlobal(baseGlobal, i32, true, m.i32.const(0))
  m.addFunction('kiln.init', i32, binaryen.none, [], m.block(null, [
    m.global.set(baseGlobal, m.local.get(0, i32)),
    m.memory.init('consts', m.local.get(0, i32), m.i32.const(0), m.i32.const(bytes), 'mem'),
    m.data.drop('consts'),
  ]))
  m.addFunctionExport('kiln.init', '__kiln_init')
}
