// Every corpus kernel, compiled, against the same function run as plain JS, on seeded inputs
// with edge values: results must be identical, on copied arrays and on zero-copy arrays.

import { alloc, free, kernel, type TypedArray, type TypedArrayConstructor } from 'kiln'
import { describe, expect, test } from 'vitest'
// @ts-expect-error plain JS corpus
import { corpus, rng } from './corpus/kernels.js'
import { cloneArgs, difference, differences, runPlain } from './support/oracle.js'

interface Case {
  name: string
  fn: (...a: unknown[]) => unknown
  deps?: Record<string, unknown>
  signature: string
  args: (r: () => number, n: number) => unknown[]
}

const cases = corpus as Case[]

function toKernelMemory(args: readonly unknown[]): { args: unknown[]; release: () => void } {
  const owned: TypedArray[] = []
  const moved = args.map((a) => {
    if (!ArrayBuffer.isView(a)) return a
    const src = a as unknown as TypedArray
    const view = alloc(src.constructor as TypedArrayConstructor, src.length)
    view.set(src as never)
    owned.push(view)
    return view
  })
  return { args: moved, release: () => owned.forEach(free) }
}

describe('compiled kernels equal plain JS', () => {
  test('the corpus has at least 15 kernels', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15)
  })

  for (const c of cases) {
    test(c.name, async () => {
      const k = kernel(c.fn, { deps: c.deps, signatures: [c.signature] })
      await k.ready()
      // Without the wasm tier the comparison below would prove nothing.
      expect(k.tier(c.signature)).toBe('compiled')
      // First round: the general module (range-specialized variants start compiling on the
      // first call and cannot be ready before this synchronous loop ends).
      compareOnSeeds(c, k)
      await k.ready()
      // Second round: the variants compiled for these inputs' value ranges serve the calls
      // (speculative ones trap on an out-of-bounds load, undo the call and hand over).
      expect(k.specializations(c.signature).length).toBeGreaterThan(0)
      compareOnSeeds(c, k)
      await k.ready()
      // Third round: where a speculation failed, its safe twin is ready now.
      compareOnSeeds(c, k)
    })
  }
})

function compareOnSeeds(c: Case, k: (...a: unknown[]) => unknown): void {
      for (const seed of [1, 2, 3, 4]) {
        const input = c.args(rng(seed), 257)
        const plainArgs = cloneArgs(input)
        const expected = runPlain(c.fn, c.signature, plainArgs)

        const copied = cloneArgs(input)
        const got = k(...copied)
        expect(difference(expected, got, 'result')).toBeNull()
        expect(differences(plainArgs, copied)).toEqual([])

        const zero = toKernelMemory(input)
        try {
          const gotZero = k(...zero.args)
          expect(difference(expected, gotZero, 'result (zero-copy)')).toBeNull()
          expect(differences(plainArgs, zero.args)).toEqual([])
        } finally {
          zero.release()
        }
      }
}
