// A range-specialized variant that hits an internal compiler error must not leave its kernel on
// plain JS: the error is said once, as KILN_INTERNAL with the kernel's id, and the general module
// serves the calls. The compiler is made to fail for variants only (they carry assumptions).

import { kernel } from 'kiln'
import { afterEach, expect, test, vi } from 'vitest'

// The mock replaces the compiler in this thread: compile here, not on a worker.
vi.hoisted(() => {
  process.env.KILN_COMPILE_WORKERS = '0'
})

vi.mock('@kiln/compiler', async (importOriginal) => {
  const real = await importOriginal<typeof import('@kiln/compiler')>()
  return {
    ...real,
    compileKernel: (input: Parameters<typeof real.compileKernel>[0]) => {
      if (input.assume) throw new Error('internal: simulated failure in a variant')
      return real.compileKernel(input)
    },
  }
})

afterEach(() => vi.restoreAllMocks())

test('a variant that fails internally is reported once and the general module serves its calls', async () => {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  // No declared signature: before, only the variant was ever compiled for these calls.
  const k = kernel(function sumVariantFails(a: Float64Array, n: number) {
    let s = 0
    for (let i = 0; i < n && i < a.length; i++) s += a[i]
    return s
  }, { name: 'sumVariantFails' })
  const a = Float64Array.of(1, 2, 3, 4.5)
  for (let round = 0; round < 3; round++) {
    expect(k(a, 3)).toBe(6)
    await k.ready()
  }
  expect(k.tier('(f64[], f64)')).toBe('compiled')
  expect(k.specializations('(f64[], f64)')).toEqual([])
  expect(k(a, 4)).toBe(10.5)
  const internal = errors.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('KILN_INTERNAL'))
  expect(internal).toHaveLength(1)
  expect(internal[0]).toContain('kernel sumVariantFails (f64[], f64)')
  expect(internal[0]).toContain('please report it')
})
