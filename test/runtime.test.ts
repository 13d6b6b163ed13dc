// The kiln runtime: tiers, lazy and declared signatures, coercion, aliasing, zero-copy memory,
// growth without detaching user arrays, errors for bad calls, and the in-memory module cache.

import { alloc, free, kernel, kernelMemory, KilnError, stats } from 'kiln'
import { describe, expect, test, vi } from 'vitest'

function saxpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = a * x[i] + y[i]
}

function shiftCopy(src: Float64Array, dst: Float64Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i] * 2
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    return e
  }
  return null
}

describe('tiers', () => {
  test('the first call runs plain JS, later calls run wasm, results equal', async () => {
    const k = kernel(saxpy, { signatures: ['(f64, f64[], f64[]) => void'] })
    expect(k.tier('(f64, f64[], f64[])')).toBe('js')
    const y1 = new Float64Array([1, 2, 3])
    k(2, new Float64Array([1, 1, 1]), y1)
    await k.ready()
    expect(k.tier('(f64, f64[], f64[]) => void')).toBe('compiled')
    const y2 = new Float64Array([1, 2, 3])
    k(2, new Float64Array([1, 1, 1]), y2)
    expect([...y2]).toEqual([...y1])
    expect([...y2]).toEqual([3, 4, 5])
  })

  test('without signatures a kernel specializes per argument types, compiling in the background', async () => {
    const sum = kernel(function sum(a: Float64Array | Float32Array | Int32Array) {
      let s = 0
      for (let i = 0; i < a.length; i++) s += a[i]
      return s
    })
    expect(sum(new Float64Array([0.5, 1.5]))).toBe(2)
    expect(sum(new Int32Array([1, -3]))).toBe(-2)
    expect(sum.signatures()).toEqual(['(f64[])', '(i32[])'])
    await sum.ready()
    expect(sum.tier('(f64[])')).toBe('compiled')
    expect(sum.tier('(i32[])')).toBe('compiled')
    expect(sum.tier('(f32[])')).toBe('js')
    expect(sum(new Float32Array([Math.fround(0.1), 2]))).toBe(Math.fround(0.1) + 2)
    await sum.compile('(f32[])')
    expect(sum.tier('(f32[])')).toBe('compiled')
    expect(sum(new Float32Array([Math.fround(0.1), 2]))).toBe(Math.fround(0.1) + 2)
    expect(sum(new Int32Array([2147483647, 2147483647]))).toBe(4294967294)
  })

  test('booleans specialize as bool', async () => {
    const pick = kernel(function pick(flag: boolean, a: number, b: number) {
      return flag ? a : b
    })
    await pick.compile('(bool, f64, f64)')
    expect(pick(true, 1, 2)).toBe(1)
    expect(pick(false, 1, 2)).toBe(2)
    expect(pick.tier('(bool, f64, f64)')).toBe('compiled')
  })
})

describe('declared signatures', () => {
  test('arguments and results are coerced to the signature in both tiers', async () => {
    const k = kernel((x: number, y: number) => x * 3 + y, { signatures: ['(i32, f32) => i32'] })
    const plain = k(2.9, 0.1) // JS tier: 2 * 3 + fround(0.1), then | 0
    await k.ready()
    expect(k.tier('(i32, f32)')).toBe('compiled')
    expect(k(2.9, 0.1)).toBe(plain)
    expect(k(2.9, 0.1)).toBe(6)
    expect(k(4294967297, 0)).toBe(3)
  })

  test('a call that matches no signature and cannot be specialized fails listing the signatures', () => {
    const k = kernel(saxpy, { signatures: ['(f64, f64[], f64[]) => void'] })
    const e = (() => {
      try {
        k(1, 'abc' as never, new Float64Array(1))
      } catch (err) {
        return err as KilnError
      }
      return null
    })()
    expect(e).toBeInstanceOf(KilnError)
    expect(e!.code).toBe('KILN_NO_SIGNATURE')
    expect(e!.message).toContain('argument 2 is string')
    expect(e!.message).toContain('(f64, f64[], f64[]) => void')
    expect(() => (k as unknown as (...a: unknown[]) => void)(1, new Float64Array(1))).toThrow(/KILN_NO_SIGNATURE.*takes 3 arguments/s)
  })

  test('a signature that does not parse is a KILN_SIGNATURE error', () => {
    expect(() => kernel(saxpy, { signatures: ['(f64, double[])'] })).toThrow(/KILN_SIGNATURE.*unknown array type/)
  })

  test('a dependency that is neither a function nor a constant is a KILN_BAD_CONSTANT error', () => {
    expect(() => kernel(saxpy, { deps: { config: { gain: 2 } } })).toThrow(/KILN_BAD_CONSTANT.*config/)
  })

  test('a kernel that does not compile keeps running as JS and reports why', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const k = kernel(function withString(a: Float64Array) {
      // @ts-expect-error outside the language on purpose
      const s = 'x'
      return a.length
    })
    expect(k(new Float64Array(3))).toBe(3)
    await vi.waitFor(() => expect(spy).toHaveBeenCalled())
    expect(String(spy.mock.calls[0][0])).toMatch(/KILN_STRING/)
    expect(k(new Float64Array(4))).toBe(4)
    expect(k.tier('(f64[])')).toBe('js')
    spy.mockRestore()
  })
})

describe('arrays and memory', () => {
  test('the same array passed twice gives the plain-JS result', async () => {
    const k = kernel(saxpy, { signatures: ['(f64, f64[], f64[]) => void'] })
    await k.ready()
    const x = new Float64Array([1, 2, 3])
    const expected = x.slice()
    saxpy(3, expected, expected)
    k(3, x, x)
    expect([...x]).toEqual([...expected])
  })

  test('overlapping subarray views give the plain-JS result', async () => {
    const k = kernel(shiftCopy, { signatures: ['(f64[], f64[]) => void'] })
    await k.ready()
    const buf = new Float64Array([1, 2, 3, 4, 5, 6, 7, 8])
    const expected = buf.slice()
    shiftCopy(expected.subarray(0, 7), expected.subarray(1))
    k(buf.subarray(0, 7), buf.subarray(1))
    expect([...buf]).toEqual([...expected])
    // And the other direction, with different element types over one buffer.
    const bytes = kernel(function widen(src: Uint8Array, dst: Float64Array) {
      for (let i = 0; i < dst.length; i++) dst[i] = src[i] + 1
    }, { signatures: ['(u8[], f64[]) => void'] })
    await bytes.ready()
    const raw = new ArrayBuffer(64)
    new Uint8Array(raw).forEach((_, i, a) => (a[i] = i * 7))
    const expectedRaw = raw.slice(0)
    ;((src: Uint8Array, dst: Float64Array) => { for (let i = 0; i < dst.length; i++) dst[i] = src[i] + 1 })(new Uint8Array(expectedRaw, 4, 40), new Float64Array(expectedRaw, 8, 4))
    bytes(new Uint8Array(raw, 4, 40), new Float64Array(raw, 8, 4))
    expect(new Uint8Array(raw)).toEqual(new Uint8Array(expectedRaw))
  })

  test('alloc() arrays live in kernel memory and are used in place', async () => {
    const k = kernel(saxpy, { signatures: ['(f64, f64[], f64[]) => void'] })
    await k.ready()
    const x = alloc(Float64Array, 1000)
    const y = alloc(Float64Array, 1000)
    expect(x.buffer).toBe(kernelMemory().buffer)
    x.fill(2)
    y.fill(1)
    k(0.5, x, y)
    expect(y[0]).toBe(2)
    expect(y[999]).toBe(2)
    // A subarray of an allocated array is zero-copy too.
    k(1, x.subarray(10, 20), y.subarray(10, 20))
    expect(y[10]).toBe(4)
    expect(y[20]).toBe(2)
    free(x)
    free(y)
  })

  test('a freed array passed to a kernel is an error, not a silent read of reused memory', async () => {
    const k = kernel(saxpy, { signatures: ['(f64, f64[], f64[]) => void'] })
    await k.ready()
    const x = alloc(Float64Array, 8)
    const y = new Float64Array(8)
    free(x)
    expect(() => k(1, x, y)).toThrow(/KILN_DETACHED_ARRAY/)
  })

  test('memory grows for large copied arguments only while no allocated array would be detached', async () => {
    const k = kernel(shiftCopy, { signatures: ['(f64[], f64[]) => void'] })
    await k.ready()
    const mem = kernelMemory()
    const n = (mem.stats().bytes / 8) * 2 // larger than all of memory now
    const src = new Float64Array(n).fill(1.5)
    const dst = new Float64Array(n)
    const before = mem.stats().bytes
    k(src, dst)
    expect(dst[n - 1]).toBe(3)
    expect(mem.stats().bytes).toBeGreaterThan(before)

    // With an allocated array alive, growth would detach it: Kiln refuses instead.
    const live = alloc(Float64Array, 16)
    live.fill(7)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const huge = (mem.stats().bytes / 8) * 2
    const err = await caught(() => alloc(Float64Array, huge))
    expect((err as KilnError).code).toBe('KILN_MEMORY_FULL')
    const bigSrc = new Float64Array(huge).fill(2)
    const bigDst = new Float64Array(huge)
    k(bigSrc, bigDst) // runs as plain JS, same result
    expect(bigDst[huge - 1]).toBe(4)
    expect(warn.mock.calls.some((c) => String(c[0]).includes('KILN_MEMORY_FULL'))).toBe(true)
    warn.mockRestore()
    expect(live.length).toBe(16)
    expect(live[15]).toBe(7)
    free(live)
  })

  test('only arrays the kernel writes are marked for copy-back', async () => {
    const { compileKernel } = await import('@kiln/compiler')
    const r = compileKernel({ source: saxpy.toString(), signature: '(f64, f64[], f64[]) => void' })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.meta.params.map((p) => [p.read, p.written])).toEqual([[false, false], [true, false], [true, true]])
  })
})

describe('range-specialized variants', () => {
  test('calls on either side of every range guard give the plain-JS result', async () => {
    function affine(a: Float64Array, out: Float64Array, s: number, n: number) {
      for (let i = 0; i < n; i++) out[i] = a[i % a.length] * s + i * n + s * s - n * i
      return s * n
    }
    const k = kernel(affine)
    const a = new Float64Array([1.5, -2, 0, 7])
    const scalars = [3, -3, 0, -0, 3.5, 1024, 1025, -1024, -1025, 65537, 16777216, 16777217, 2 ** 31, -(2 ** 40), NaN, Infinity]
    const ns = [0, 3, 8]
    const run = () => {
      for (const s of scalars) {
        for (const n of ns) {
          const expectedOut = new Float64Array(8)
          const gotOut = new Float64Array(8)
          const expected = affine(a, expectedOut, s, n)
          const got = k(a, gotOut, s, n)
          expect(Object.is(got, expected)).toBe(true)
          expect([...gotOut].map(String)).toEqual([...expectedOut].map(String))
        }
      }
    }
    run() // plain JS while the variants compile
    await k.ready()
    expect(k.specializations('(f64[], f64[], f64, f64)').length).toBeGreaterThan(3)
    // A variant per guard class (speculative or its safe twin, whichever these calls needed).
    const classes = k.specializations('(f64[], f64[], f64, f64)').map((v) => v.replace(/ (trap-oob|simd)/g, ''))
    expect(classes).toContain('len≤16777216 p2∈[1,1024] p3∈[1,1024]')
    expect(classes).toContain('len≤16777216 p2∈[0,0] p3∈[1,1024]')
    run() // every guard class now runs its variant, the rest the general module
    expect(k.tier('(f64[], f64[], f64, f64)')).toBe('compiled')
  })
})

describe('speculative in-bounds loads', () => {
  function gather(idx: Int32Array, src: Int32Array, out: Float64Array) {
    let s = 0
    for (let i = 0; i < idx.length; i++) {
      out[i] += src[idx[i]] + 1 // reads what it writes: a rerun without undo would add twice
      s += out[i]
    }
    return s
  }

  test('a load that goes out of bounds undoes the call and gives the plain-JS result', async () => {
    const k = kernel(gather, { signatures: ['(i32[], i32[], f64[]) => f64'] })
    await k.ready()
    const src = new Int32Array([10, 20, 30, 40])
    const good = new Int32Array([3, 2, 1, 0, 3])
    const bad = new Int32Array([1, 2, 7, 0, -1]) // 7 and -1 are out of bounds: JS reads undefined
    k(good, src, new Float64Array(5)) // starts the speculative variant for this class
    await k.ready()
    expect(k.specializations('(i32[], i32[], f64[])').some((v) => v.includes('trap-oob'))).toBe(true)

    const expectGather = (idx: Int32Array, out: Float64Array, got: unknown) => {
      const plainOut = new Float64Array(out.length).fill(-5)
      const expected = gather(idx, src, plainOut)
      expect(Object.is(got, expected)).toBe(true)
      expect([...out].map(String)).toEqual([...plainOut].map(String))
    }
    // In-bounds calls run speculatively.
    const out1 = new Float64Array(5).fill(-5)
    expectGather(good, out1, k(good, src, out1))
    // Copied arrays: the trap discards the staged copy; the call reruns without speculation.
    const out2 = new Float64Array(5).fill(-5)
    expectGather(bad, out2, k(bad, src, out2))
    // Zero-copy arrays written before the trap are restored from a snapshot first.
    const zidx = alloc(Int32Array, 5)
    const zsrc = alloc(Int32Array, 4)
    const zout = alloc(Float64Array, 5)
    zsrc.set(src)
    zidx.set(bad)
    zout.fill(-5)
    const fresh = kernel(gather, { signatures: ['(i32[], i32[], f64[]) => f64'] })
    fresh(zidx, zsrc, zout)
    zout.fill(-5)
    await fresh.ready()
    expectGather(bad, zout, fresh(zidx, zsrc, zout))
    await fresh.ready()
    // After a trap the class runs its safe twin, compiled without speculation.
    expect(fresh.specializations('(i32[], i32[], f64[])').some((v) => !v.includes('trap-oob'))).toBe(true)
    zout.fill(-5)
    expectGather(bad, zout, fresh(zidx, zsrc, zout))
    free(zidx)
    free(zsrc)
    free(zout)
  })

  test('megabytes of zero-copy writes are restored when the trap comes at the end', async () => {
    const n = 150_000 // 1.2 MB of f64 written before the one bad index, the last
    const src = Int32Array.from({ length: 64 }, (_, i) => i * 3)
    const goodIdx = Int32Array.from({ length: n }, (_, i) => i % 64)
    const k = kernel(gather, { signatures: ['(i32[], i32[], f64[]) => f64'] })
    const zidx = alloc(Int32Array, n)
    const zsrc = alloc(Int32Array, 64)
    const zout = alloc(Float64Array, n)
    zsrc.set(src)
    zidx.set(goodIdx)
    k(zidx, zsrc, zout)
    await k.ready()
    expect(k.specializations('(i32[], i32[], f64[])').some((v) => v.includes('trap-oob'))).toBe(true)
    const plainOut = new Float64Array(n).fill(1.5)
    zout.fill(1.5)
    expect(k(zidx, zsrc, zout)).toBe(gather(goodIdx, src, plainOut)) // speculative, in bounds
    expect(zout).toEqual(plainOut)
    zidx[n - 1] = 64
    const badIdx = zidx.slice()
    zout.fill(2.5)
    plainOut.fill(2.5)
    expect(k(zidx, zsrc, zout)).toBe(gather(badIdx, src, plainOut))
    expect(zout).toEqual(plainOut)
    free(zidx)
    free(zsrc)
    free(zout)
  })
})

describe('repeated calls take the last route only while it is the right one', () => {
  function scaleInto(out: Float32Array, a: Float32Array, k: number) {
    for (let i = 0; i < a.length; i++) out[i] = a[i] * k + (k > 1000 ? 1 : 0)
    return out.length + k
  }
  const plainOf = (a: Float32Array, k: number) => {
    const out = new Float32Array(a.length)
    return { r: scaleInto(out, a, k), out }
  }

  test('other classes, copied arrays, other array types and freed arrays after a zero-copy route', async () => {
    const k = kernel(scaleInto)
    const out = alloc(Float32Array, 8)
    const a = alloc(Float32Array, 8)
    a.set([1, -2, 3.5, NaN, -0, 1e30, 7, 8])
    k(out, a, 3)
    await k.ready()
    for (const scale of [3, 3, 2.5, 1e6, -7, 3, NaN, 3]) {
      const want = plainOf(a, scale)
      expect(k(out, a, scale)).toBe(want.r)
      expect(out).toEqual(want.out)
      await k.ready()
    }
    expect(k.tier(k.signatures()[0])).toBe('compiled')
    // A copied array of the same type, then the zero-copy one again.
    const copied = new Float32Array(8)
    expect(k(copied, a, 3)).toBe(plainOf(a, 3).r)
    expect(copied).toEqual(plainOf(a, 3).out)
    expect(k(out, a, 3)).toBe(plainOf(a, 3).r)
    // Another signature, then the first again.
    const wide = new Float64Array(4)
    expect(k(wide as never, new Float64Array([1, 2, 3, 4]) as never, 2)).toBe(6)
    expect([...wide]).toEqual([2, 4, 6, 8])
    expect(k(out, a, 2)).toBe(plainOf(a, 2).r)
    // A freed array is refused even on a warm route.
    free(out)
    expect(() => k(out, a, 3)).toThrow(/KILN_DETACHED_ARRAY/)
    free(a)
  })

  test('a speculative variant on the route: a trap leaves no trace, and the call still gives the JS result', async () => {
    // idx[i] past idx's end is undefined in JS: the speculative variant traps there, after it
    // has written `out` in place. The route restores `out` before the full dispatch runs the
    // call again (a partial write left behind would be added twice).
    function accumulate(out: Float64Array, idx: Int32Array, n: number) {
      let s = 0
      for (let i = 0; i < n; i++) {
        out[i] = out[i] + idx[i]
        s += out[i]
      }
      return s
    }
    const k = kernel(accumulate, { signatures: ['(f64[], i32[], i32) => f64'] })
    const out = alloc(Float64Array, 12)
    const idx = alloc(Int32Array, 8)
    idx.set([1, -2, 3, 4, 5, 6, 7, 8])
    const mirror = new Float64Array(12)
    const mirrorIdx = Int32Array.from(idx)
    k(out, idx, 8)
    accumulate(mirror, mirrorIdx, 8)
    await k.ready()
    // (An i32 parameter takes ToInt32 of the number passed, on the route as in the full dispatch.)
    for (const n of [8, 8, 7, 8, 10, 8, 12, 3, 8.9, 2 ** 32 + 8, -1]) {
      const want = accumulate(mirror, mirrorIdx, n | 0)
      expect(k.tier('(f64[], i32[], i32) => f64')).not.toBe('js')
      expect(k(out, idx, n)).toBe(want)
      expect([...out]).toEqual([...mirror])
      await k.ready()
    }
    free(out)
    free(idx)
  })
})

describe('precompiled range variants', () => {
  test('a call that meets a variant\'s guards runs it; others, and every call after a trap, run the general artifact', async () => {
    const { compileKernel } = await import('@kiln/compiler')
    const signature = '(i32[], f64) => f64'
    // The variant is compiled from other code on purpose, so the test sees which module ran.
    const general = compileKernel({ source: '(a, k) => a[k] + 1', signature })
    const assume = { maxLength: 4, intRanges: [null, [0, 10]] as ([number, number] | null)[], trapOutOfBounds: true }
    const variant = compileKernel({ source: '(a, k) => a[k] + 1000', signature, assume })
    if (!general.ok || !variant.ok) throw new Error('fixture modules do not compile')
    expect(variant.meta.speculative).toBe(true)
    const artifacts = [
      { signature, key: 'general', meta: general.meta, module: new WebAssembly.Module(general.wasm as Uint8Array<ArrayBuffer>) },
      { signature, key: 'variant', meta: variant.meta, module: new WebAssembly.Module(variant.wasm as Uint8Array<ArrayBuffer>), assume },
    ]
    const fn = (a: Int32Array, k: number) => a[k] + 1
    const k = kernel(fn, { __kiln: { id: 'routing', source: fn.toString(), helpers: {}, constants: {}, artifacts } })
    expect(k.tier(signature)).toBe('aot')
    expect(k.specializations(signature)).toEqual([variant.meta.variant])
    const a = Int32Array.of(5, 6, 7, 8)
    expect(k(a, 1)).toBe(1006) // guards met: the variant
    expect(k(a, 1.5)).toBeNaN() // k not an integer: general (a[1.5] is undefined)
    expect(k(a, -0)).toBe(6) // -0 is not in an integer range: general
    expect(k(Int32Array.of(1, 2, 3, 4, 5), 1)).toBe(3) // longer than maxLength: general
    expect(k(a, 3)).toBe(1008)
    // In the guards but out of bounds: the speculative variant traps, the general artifact answers as JS does.
    expect(k(a, 9)).toBeNaN()
    expect(k.specializations(signature)).toEqual([])
    expect(k(a, 1)).toBe(7) // the variant bailed out for good
  })
})

describe('module cache', () => {
  test('kernels with the same source, deps and signature share one compile', async () => {
    const make = () => kernel(function twice(a: Float64Array) { for (let i = 0; i < a.length; i++) a[i] *= 2 }, { signatures: ['(f64[]) => void'] })
    const k1 = make()
    await k1.ready()
    const compiles = stats().compiles
    const k2 = make()
    await k2.ready()
    expect(stats().compiles).toBe(compiles)
    const a = new Float64Array([1, 2])
    k2(a)
    expect([...a]).toEqual([2, 4])
  })

  test('a different constant is a different module', async () => {
    // G in scope is NaN, so results of 2 and 3 prove the folded constants (the wasm tier) served.
    const G = NaN
    const make = (g: number) => kernel(function scale(a: Float64Array) { for (let i = 0; i < a.length; i++) a[i] *= G }, { deps: { G: g }, signatures: ['(f64[]) => void'] })
    const k1 = make(2)
    const k2 = make(3)
    await Promise.all([k1.ready(), k2.ready()])
    const a = new Float64Array([1])
    const b = new Float64Array([1])
    k1(a)
    k2(b)
    expect(a[0]).toBe(2)
    expect(b[0]).toBe(3)
  })
})
