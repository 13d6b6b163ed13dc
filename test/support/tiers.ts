// Runs a kernel in every tier Kiln has for a call (the general module, the speculative range
// variants the calls start, their safe twins), on copied and zero-copy arrays, and requires the
// plain function's result each time: a fixture checks compiled code, never the JS fallback.

import { alloc, free, kernel, type TypedArray, type TypedArrayConstructor } from 'kiln'
import { expect, onTestFinished, vi } from 'vitest'
import { cloneArgs, difference, differences, runPlain } from './oracle.js'

export interface Fixture {
  name: string
  fn: (...a: never[]) => unknown
  deps?: Record<string, unknown>
  /** Declared; without one, the kernel specializes on the arguments and infers its result. */
  signature?: string
  argSets: (() => unknown[])[]
}

export function toKernelMemory(args: readonly unknown[]): { args: unknown[]; release: () => void } {
  const owned: TypedArray[] = []
  const moved = args.map((a) => {
    if (!ArrayBuffer.isView(a)) return a
    const view = alloc((a as unknown as TypedArray).constructor as TypedArrayConstructor, (a as unknown as TypedArray).length)
    view.set(a as never)
    owned.push(view)
    return view
  })
  return { args: moved, release: () => owned.forEach(free) }
}

/** The plain result; a signature for the oracle's coercions (an inferred kernel gets none). */
function compareOnce(f: Fixture, k: (...a: unknown[]) => unknown): void {
  for (const make of f.argSets) {
    const plainArgs = cloneArgs(make())
    const expected = f.signature ? runPlain(f.fn as (...a: unknown[]) => unknown, f.signature, plainArgs) : (f.fn as (...a: unknown[]) => unknown)(...plainArgs)
    const copied = cloneArgs(make())
    expect(difference(expected, k(...copied), `${f.name} result`)).toBeNull()
    expect(differences(plainArgs, copied)).toEqual([])
    const zero = toKernelMemory(make())
    try {
      expect(difference(expected, k(...zero.args), `${f.name} result (zero-copy)`)).toBeNull()
    } finally {
      zero.release()
    }
  }
}

/** Every tier, each on every argument set; fails on a variant's internal error report too. */
export async function checkEveryTier(f: Fixture): Promise<void> {
  // A variant's internal error is reported (and the general module answers): that fails a fixture too.
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  onTestFinished(() => errors.mockRestore())
  const k = kernel(f.fn as (...a: unknown[]) => unknown, { deps: f.deps, signatures: f.signature ? [f.signature] : [] })
  if (!f.signature) {
    // Inferred: the first call specializes and compiles in the background (served as JS).
    k(...f.argSets[0]())
    await k.ready()
    expect(k.signatures().map((s) => k.tier(s))).not.toContain('js')
  } else {
    await k.ready()
    expect(k.tier(f.signature)).toBe('compiled')
  }
  // The general module, then the range variants these calls started, then their safe twins.
  compareOnce(f, k)
  await k.ready()
  compareOnce(f, k)
  await k.ready()
  compareOnce(f, k)
  expect(k.signatures().flatMap((sig) => k.specializations(sig)).length).toBeGreaterThan(0)
  expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([])
}
