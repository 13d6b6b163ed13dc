// Typed instances → one optimized wasm module: imports (the shared memory, host Math, the
// exact `%`), runtime helpers on demand, the constant region, the `kernel` export.

import binaryen from 'binaryen'
import type { ConstValue, Instance } from './infer.js'
import { lowerFunction, wasmParams, type ModuleContext } from './lower.js'

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
}

export interface EmitOutput {
  wasm: Uint8Array
  /** Host Math functions imported, as `name/arity`. */
  mathImports: string[]
  /** Per kernel parameter: whether it is an array the kernel reads / writes. */
  arrayAccess: { read: boolean; written: boolean }[]
  /** Bytes the constant region needs (0: none, and no `__kiln_init` export). */
  constBytes: number
}

export function emitWasm(input: EmitInput): EmitOutput {
  const m = new binaryen.Module()
  try {
    m.setFeatures(features)
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

    const ctx: ModuleContext = {
      m,
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
    }

    for (const inst of input.instances) {
      const abi = inst === input.root ? input.rootAbi : inst.params.map(wasmParams)
      lowerFunction(ctx, inst, abi)
    }
    m.addFunctionExport(input.root.id, 'kernel')

    if (helpers.has('fmod') || helpers.has('toInt32') || helpers.has('round')) addRuntimeHelpers(m, helpers)
    for (const [internal, { name, arity }] of mathImports) {
      m.addFunctionImport(internal, 'Math', name, binaryen.createType(new Array(arity).fill(binaryen.f64)), binaryen.f64)
    }
    if (constBytes > 0) addConstantInit(m, ctx.constBase, constBytes)

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
    }
  } finally {
    m.dispose()
  }
}

/** ToInt32, the exact `%` and Math.round as module functions (binaryen inlines them). */
function addRuntimeHelpers(m: binaryen.Module, wanted: Set<string>): void {
  const { f64, i32 } = binaryen
  const x = (): number => m.local.get(0, f64)
  if (wanted.has('toInt32')) {
    // Fast path for |x| < 2^63 (trunc_sat then wrap gives x mod 2^32); else NaN/±Infinity → 0,
    // and huge finite values (integers) reduce exactly with floor division by 2^32.
    const two32 = m.f64.const(4294967296)
    const reduced = m.f64.sub(x(), m.f64.mul(m.f64.floor(m.f64.div(x(), two32)), m.f64.const(4294967296)))
    m.addFunction('kiln.toInt32', f64, i32, [], m.block(null, [
      // A trapping conversion (it cannot trap behind this guard) costs less than a saturating one.
      m.if(m.f64.lt(m.f64.abs(x()), m.f64.const(9223372036854775808)), m.return(m.i32.wrap(m.i64.trunc_s.f64(x())))),
      m.if(m.f64.ne(m.f64.sub(x(), x()), m.f64.const(0)), m.return(m.i32.const(0))),
      m.return(m.i32.trunc_u_sat.f64(reduced)),
    ], i32))
  }
  if (wanted.has('fmod')) {
    m.addFunctionImport('kiln.hostMod', 'kiln', 'mod', binaryen.createType([f64, f64]), f64)
    const a = (): number => m.local.get(0, f64)
    const b = (): number => m.local.get(1, f64)
    const ia = (): number => m.local.get(2, i32)
    const ib = (): number => m.local.get(3, i32)
    const r = (): number => m.local.get(4, i32)
    m.addFunction('kiln.fmod', binaryen.createType([f64, f64]), f64, [i32, i32, i32], m.block(null, [
      m.local.set(2, m.i32.trunc_s_sat.f64(a())),
      m.local.set(3, m.i32.trunc_s_sat.f64(b())),
      // Both operands exact int32 and a nonzero divisor: i32 remainder, with JS's sign for 0.
      m.if(
        m.i32.and(m.i32.and(m.f64.eq(m.f64.convert_s.i32(ia()), a()), m.f64.eq(m.f64.convert_s.i32(ib()), b())), m.i32.ne(ib(), m.i32.const(0))),
        m.block(null, [
          m.local.set(4, m.i32.rem_s(ia(), ib())),
          m.return(m.if(m.i32.eqz(r()), m.f64.copysign(m.f64.const(0), a()), m.f64.convert_s.i32(r()))),
        ]),
      ),
      m.return(m.call('kiln.hostMod', [a(), b()], f64)),
    ], f64))
  }
  if (wanted.has('round')) {
    // JS Math.round: floor(x) + (x - floor(x) >= 0.5), keeping the sign of a zero result.
    const fl = (): number => m.local.get(1, f64)
    const r = (): number => m.local.get(2, f64)
    m.addFunction('kiln.round', f64, f64, [f64, f64], m.block(null, [
      m.local.set(1, m.f64.floor(x())),
      m.local.set(2, m.select(m.f64.ge(m.f64.sub(x(), fl()), m.f64.const(0.5)), m.f64.add(fl(), m.f64.const(1)), fl())),
      m.return(m.select(m.f64.eq(r(), m.f64.const(0)), m.f64.copysign(m.f64.const(0), x()), r())),
    ], f64))
  }
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
