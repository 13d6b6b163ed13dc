// The kernel-speed passes keep results identical to plain JS: each pass has fixtures that hit
// its edge cases (NaN, -0, infinities, undefined from out-of-bounds reads, unprovable bounds,
// int overflow), run in every tier on copied and zero-copy arrays.

import { compileKernel, INLINE_EXPONENTS } from '@kiln/compiler'
import { alloc, free, kernel } from 'kiln'
import { describe, expect, test } from 'vitest'
import { launchBrowser } from './support/browser.js'
import { checkEveryTier, type Fixture } from './support/tiers.js'

/** The compiler's own binaryen, to read the modules it emits as text. */
async function compilersBinaryen(): Promise<{ readBinary(wasm: Uint8Array): { emitText(): string } }> {
  const { createRequire } = await import('node:module')
  const { fileURLToPath, pathToFileURL } = await import('node:url')
  const path = createRequire(fileURLToPath(import.meta.resolve('@kiln/compiler'))).resolve('binaryen')
  return (await import(pathToFileURL(path).href)).default
}

const EDGES = [NaN, 0, -0, Infinity, -Infinity, 1, -1, 0.5, -0.5, 2, 1e308, -1e308, 5e-324, -5e-324, 1e-160, 3.7, -3.7, 2147483648, 1.0000000000000002]

/** What each inline exponent is lowered to, as the same IEEE operations in JS. */
const IDENTITIES = `({
  '0': () => 1,
  '1': (x) => x,
  '2': (x) => x * x,
  '0.5': (x) => (x === -Infinity ? Infinity : Math.sqrt(x) + 0),
})`

/** Runs a `(source, edges, count) => mismatches` check in a Chromium page. */
async function mismatchesInChromium(check: (source: string, edges: number[], count: number) => string[], source: string): Promise<string[]> {
  const browser = await launchBrowser()
  try {
    const page = await browser.context.newPage()
    return await page.evaluate(`(${check.toString()})(${JSON.stringify(source)}, [${EDGES.map((x) => (Object.is(x, -0) ? '-0' : String(x))).join(', ')}], 200000)`)
  } finally {
    await browser.close()
  }
}

/** Values where an identity and Math.pow differ: edge values and a seeded spread of magnitudes. */
function powMismatches(identitiesSource: string, edges: number[], count: number): string[] {
  // eslint-disable-next-line no-new-func
  const identities = new Function(`return ${identitiesSource}`)() as Record<string, (x: number) => number>
  let seed = 12345
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0) / 2147483648
  const values = [...edges]
  for (let i = 0; i < count; i++) values.push(next() * 10 ** Math.round(next() * 300))
  const bad: string[] = []
  for (const [e, f] of Object.entries(identities)) {
    for (const x of values) if (!Object.is(Math.pow(x, Number(e)), f(x))) bad.push(`${x} ** ${e}`)
  }
  return bad
}

describe('Math.pow and ** with a constant exponent are inline only where that is exact', () => {
  test('the inline exponents are the ones the identities cover', () => {
    expect([...INLINE_EXPONENTS].sort()).toEqual(Object.keys(new Function(`return ${IDENTITIES}`)()).map(Number).sort())
  })

  test('only the other exponents import Math.pow', () => {
    const imports = (body: string) => {
      const r = compileKernel({ source: `(a) => { let s = 0; for (let i = 0; i < a.length; i++) s += ${body}; return s }`, signature: '(f64[]) => f64' })
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'))
      return r.meta.mathImports
    }
    expect(imports('Math.pow(a[i], 2) + a[i] ** 0.5 + a[i] ** 1 + Math.pow(a[i], 0)')).toEqual([])
    expect(imports('a[i] ** 3')).toEqual(['pow/2'])
    expect(imports('Math.pow(a[i], -1)')).toEqual(['pow/2'])
  })

  test('each identity equals Math.pow in Node', () => {
    expect(powMismatches(IDENTITIES, EDGES, 200_000)).toEqual([])
  })

  test('each identity equals Math.pow in Chromium', async () => {
    expect(await mismatchesInChromium(powMismatches, IDENTITIES)).toEqual([])
  }, 60_000)

  const values = () => Float64Array.from([...EDGES, 4, 9, 0.25, -2])
  const fixtures: Fixture[] = [
    {
      name: 'every inline exponent and some that are not, on edge values and out-of-bounds reads',
      fn: (a: Float64Array, out: Float64Array, k: number) => {
        for (let i = 0; i < a.length + 2; i++) {
          const x = a[i]
          out[i * 8] = Math.pow(x, 2)
          out[i * 8 + 1] = x ** 0.5
          out[i * 8 + 2] = Math.pow(x, -1)
          out[i * 8 + 3] = x ** 1
          out[i * 8 + 4] = Math.pow(x, 0)
          out[i * 8 + 5] = x ** 3
          out[i * 8 + 6] = Math.pow(x, -0.5)
          out[i * 8 + 7] = Math.pow(x, k)
        }
      },
      argSets: [() => [values(), new Float64Array(8 * 25), 2], () => [values(), new Float64Array(8 * 25), 0.5]],
    },
    {
      // `x ** 1` of undefined is NaN: undefined's own bit pattern must not reach the array or the result.
      name: 'x ** 1 and x ** 2 of undefined, stored and returned',
      fn: (a: Float64Array, i: number) => {
        a[0] = a[i] ** 1
        a[1] = Math.pow(a[i + 1], 1) + 0
        let s = a[i] ** 2
        s **= 1
        return a[i] ** 1 === a[i] ** 1 ? s : -s
      },
      argSets: [() => [Float64Array.of(3, 4, 5), 5], () => [Float64Array.of(3, 4, -0), 1], () => [Float64Array.of(3, 4, 5), -1]],
    },
    {
      name: 'integer and boolean exponents, and a module constant',
      fn: (a: Int32Array, flag: boolean) => {
        let s = 0
        for (let i = 0; i < a.length; i++) s += a[i] ** 2 + Math.pow(a[i], flag ? 1 : 2) - a[i] ** -1 + Math.pow(-a[i], 0.5)
        return s
      },
      argSets: [() => [Int32Array.of(0, -0, 3, -3, 2147483647, -2147483648, 46341), true], () => [Int32Array.of(7, 0), false]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

/** Math.hypot as hypot.ts lowers it (V8's algorithm), in JS: must equal Math.hypot wherever it runs. */
const HYPOT = `((...xs) => {
  let max = 0
  let nan = false
  for (const x of xs) {
    if (x !== x) nan = true
    else if (Math.abs(x) > max) max = Math.abs(x)
  }
  if (max === Infinity) return Infinity
  if (nan) return NaN
  if (max === 0) return 0
  let sum = 0
  let compensation = 0
  for (const x of xs) {
    const n = Math.abs(x) / max
    const summand = n * n - compensation
    const preliminary = sum + summand
    compensation = (preliminary - sum) - summand
    sum = preliminary
  }
  return Math.sqrt(sum) * max
})`

/** Argument lists where the lowering and Math.hypot differ: edge values and a seeded spread of magnitudes, 1 to 4 arguments. */
function hypotMismatches(hypotSource: string, edges: number[], count: number): string[] {
  // eslint-disable-next-line no-new-func
  const hypot = new Function(`return ${hypotSource}`)() as (...xs: number[]) => number
  let seed = 4242
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0) / 2147483648
  const pick = () => (next() < 0.1 ? edges[Math.floor(Math.abs(next()) * edges.length)] : next() * 10 ** Math.round(next() * 320))
  const bad: string[] = []
  for (let i = 0; i < count; i++) {
    const xs = Array.from({ length: 1 + (i % 4) }, pick)
    // Both called the way kernels call them: 2 arguments most often.
    const want = xs.length === 2 ? Math.hypot(xs[0], xs[1]) : Math.hypot(...xs)
    if (!Object.is(want, hypot(...xs))) bad.push(xs.join(', '))
  }
  return bad
}

describe('Math.hypot is inline, with V8\'s own algorithm (hypot.ts)', () => {
  test('the lowering equals Math.hypot in Node', () => {
    expect(hypotMismatches(HYPOT, EDGES, 200_000)).toEqual([])
  })

  test('the lowering equals Math.hypot in Chromium', async () => {
    expect(await mismatchesInChromium(hypotMismatches, HYPOT)).toEqual([])
  }, 60_000)

  test('no Math import is left for it', () => {
    const r = compileKernel({ source: '(a) => { let s = 0; for (let i = 0; i + 2 < a.length; i++) s += Math.hypot(a[i], a[i + 1]) + Math.hypot(a[i]) + Math.hypot(a[i], a[i + 1], a[i + 2]) + Math.hypot(); return s }', signature: '(f64[]) => f64' })
    expect(r.ok && r.meta.mathImports).toEqual([])
  })

  const fixtures: Fixture[] = [
    {
      name: 'hypot of 0 to 3 arguments on edge values, undefined reads and ints',
      fn: (a: Float64Array, b: Int32Array, out: Float64Array) => {
        for (let i = 0; i < a.length; i++) {
          out[i * 4] = Math.hypot(a[i], a[i + 1])
          out[i * 4 + 1] = Math.hypot(a[i])
          out[i * 4 + 2] = Math.hypot(a[i], b[i % b.length], a[a.length - 1 - i]) + Math.hypot()
          out[i * 4 + 3] = Math.hypot(b[i % b.length], 3)
        }
      },
      argSets: [() => [Float64Array.from(EDGES), Int32Array.of(3, -4, 0, 2147483647), new Float64Array(EDGES.length * 4)], () => [Float64Array.of(3, 4, 1e300, 1e-300, -0), Int32Array.of(-5), new Float64Array(20)]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('bounds of non-integer numbers keep loop counters int, and stay exact', () => {
  const odd = (n: number) => Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : i * 1.5 - 7))
  const fixtures: Fixture[] = [
    {
      name: 'i < n / 2 over flat pairs, odd lengths and an empty array',
      fn: function area(pts: Float64Array) {
        const n = pts.length / 2
        let s = 0
        for (let i = 0; i < n; i++) s += pts[2 * i] * pts[2 * i + 1] - pts[(2 * i + 2) % pts.length]
        return s
      },
      argSets: [() => [odd(10)], () => [odd(7)], () => [odd(0)], () => [odd(1)]],
    },
    {
      name: 'bounds from a division by a scalar, NaN, infinite and negative ones, <= and counting down',
      fn: (a: Float64Array, d: number) => {
        let s = 0
        for (let i = 0; i <= a.length / d; i++) s += a[i] + i
        for (let i = a.length; i > a.length / -d; i--) s -= a[i] ?? i
        for (let i = 0; i < Math.floor(a.length * 0.75); i++) s += i * a[i]
        return s
      },
      argSets: [() => [odd(9), 2], () => [odd(9), 0.5], () => [odd(5), -2], () => [odd(5), NaN], () => [odd(5), -3], () => [odd(6), Infinity]],
    },
    {
      name: 'size *= 2 and <<= 1 bounded by the loop test, with continue in the body',
      fn: (a: Float64Array, out: Float64Array) => {
        let k = 0
        for (let size = 1; size <= a.length; size *= 2) {
          const half = size / 2
          for (let j = 0; j < half; j++) {
            if (j === 1) continue
            out[k++ % out.length] = a[j] + half
          }
        }
        let w = 1
        while (w < a.length) w <<= 1
        return w + k
      },
      argSets: [() => [odd(16), new Float64Array(40)], () => [odd(13), new Float64Array(7)], () => [odd(0), new Float64Array(2)]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('ToInt32 of integer sums, differences and products is wrapping i32 arithmetic only where exact', () => {
  const fixtures: Fixture[] = [
    {
      name: 'hash steps that overflow int32, with constants outside int32',
      fn: function mix(a: Int32Array, seed: number) {
        let h = seed | 0
        for (let i = 0; i < a.length; i++) {
          h = (Math.imul(h, 5) + 0xe6546b64) | 0
          h = (h + a[i] * 3 - 0x7fffffff) ^ (a[i] - h)
          h = (h * 65537 + a[i]) >>> 0
        }
        return h
      },
      argSets: [() => [Int32Array.of(0, -1, 2147483647, -2147483648, 12345, -0), 7], () => [new Int32Array(0), 2 ** 31 + 5], () => [Int32Array.of(99), -1.5]],
    },
    {
      // Products past 2^53 round in JS, so ToInt32 of them is not the wrapped product: these stay f64.
      name: 'products too large to be exact, -0, and a local written with a wrapped value',
      fn: (a: Int32Array) => {
        let s = 0
        let w = 0
        for (let i = 0; i < a.length; i++) {
          s = (s + (a[i] * a[i] * a[i]) | 0) | 0
          s ^= (a[i] * -0) | 0
          w = a[i] * 4294967297 + 1
          s = (s + (w | 0)) | 0
        }
        return s
      },
      argSets: [() => [Int32Array.of(2147483647, -2147483648, 3, 1 << 20, 46341)], () => [Int32Array.of(0, -5)]],
    },
    {
      // (a / b) | 0 of int32s is i32.div_s, except where b is 0 (0) or -1 (wrapping negation).
      name: 'integer quotients under ToInt32, by 0, -1 and INT_MIN, and a divisor known positive',
      fn: (a: Int32Array, b: Int32Array, out: Int32Array) => {
        let s = 0
        for (let i = 0; i < a.length; i++) {
          out[i] = (a[i] / b[i]) | 0
          s = (s + ((a[i] / b[i]) >>> 0) + ~~(b[i] / (a[i] + 1)) + ((a[i] / ((i & 7) + 1)) ^ 0)) | 0
        }
        return s
      },
      argSets: [
        () => [Int32Array.of(7, -7, 7, -7, 0, -2147483648, -2147483648, 2147483647, 5, -1), Int32Array.of(2, 2, -2, -2, 0, -1, 1, -1, 0, 0), new Int32Array(10)],
        () => [Int32Array.of(1, 2, 3), Int32Array.of(3, 3, 3), new Int32Array(3)],
      ],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('integer results of rounding, and speculative int32 arithmetic, stay exact', () => {
  const fixtures: Fixture[] = [
    {
      name: 'Math.floor, ceil, round and trunc of bounded numbers: -0, halves, negative steps, as indices',
      fn: (a: Float64Array, out: Float64Array, n: number) => {
        for (let i = 0; i < a.length; i++) {
          const f = Math.floor(i * 0.5)
          out[i * 4] = f + a[f]
          out[i * 4 + 1] = Math.ceil(i / n - 1)
          out[i * 4 + 2] = Math.round(-i / n)
          out[i * 4 + 3] = Math.trunc(i * -0.25) + Math.floor(-i / n) / 4
        }
        // (Found by the fuzzer: a constant that never rounds to an int32 is not speculated on.)
        return Math.floor(a.length / 3) + Math.ceil(0 * -1) + Math.round(9007199254740992) + Math.floor(a[0] * n) + Math.trunc(-a[1] / 8) % n
      },
      argSets: [() => [Float64Array.of(1, 2, 3, 4, 5, 6, 7), new Float64Array(28), 2], () => [Float64Array.of(1, -0, 3), new Float64Array(12), 5], () => [Float64Array.of(9, 8), new Float64Array(8), 0], () => [Float64Array.of(9), new Float64Array(4), -3]],
    },
    {
      name: 'sums, products and counters past int32 trap and rerun; -0 products; (y * w + x) * 4 indices',
      fn: (a: Int32Array, out: Float64Array, w: number) => {
        let s = 0
        let p = 1
        let count = 0
        for (let i = 0; i < a.length; i++) {
          s = s * 3 + a[i]
          p = a[i] * -w
          out[i % out.length] = p
          count += a[i] > 0 ? 1 : 2
        }
        for (let y = 0; y < 2; y++) for (let x = 0; x < w; x++) out[((y * w + x) * 4) % out.length] += s
        return s + count + p
      },
      argSets: [
        () => [Int32Array.of(1, 2, 0, -4), new Float64Array(8), 3],
        () => [Int32Array.of(2147483647, 2147483647, 5), new Float64Array(8), 2],
        () => [Int32Array.of(0, 0, -0), new Float64Array(3), 7],
        () => [Int32Array.from({ length: 40 }, (_, i) => i * 1e8), new Float64Array(16), 1],
      ],
    },
    {
      // Rounding of bounded numbers either side of zero, into int32 elements, in every tier.
      // (Where a result is typed int, only Math.trunc, and Math.floor of a number known >= 0,
      // skip the rounding instruction; this checks the values whichever way each is typed.)
      name: 'floor, ceil, round and trunc of bounded numbers either side of zero',
      fn: (a: Int8Array, b: Uint8Array, out: Int32Array) => {
        for (let i = 0; i < a.length; i++) {
          out[i * 4] = Math.floor(a[i] * 0.5) + Math.floor(b[i] * 0.3)
          out[i * 4 + 1] = Math.trunc(a[i] * 0.25) - Math.trunc(b[i] / 7)
          out[i * 4 + 2] = Math.ceil(a[i] / 3) + Math.round(b[i] * 0.5)
          out[i * 4 + 3] = Math.floor(a[i] / 3) * Math.floor(b[i] / 2.5)
        }
      },
      signature: '(i8[], u8[], i32[]) => void',
      argSets: [() => [Int8Array.of(-128, -7, -3, -1, 0, 1, 3, 7, 127, -2, 5, -5), Uint8Array.of(0, 1, 2, 3, 5, 7, 10, 99, 100, 254, 255, 128), new Int32Array(48)]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('lengths divided exactly, and loop bounds narrowed on both sides', () => {
  const pts = (n: number) => Float64Array.from({ length: n }, (_, i) => (i % 5) - 2.5 + i * 0.25)
  const fixtures: Fixture[] = [
    {
      // n = pts.length / 2 is speculated exact (a trap on odd lengths reruns without speculation);
      // inside `i < n`, n >= 1, so (i + 1) % n is an int remainder.
      name: 'shoelace area over flat pairs: even, odd and empty lengths',
      fn: function polygonArea(p: Float64Array) {
        const n = p.length / 2
        let area = 0
        for (let i = 0; i < n; i++) {
          const j = (i + 1) % n
          area += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1]
        }
        return area / 2
      },
      argSets: [() => [pts(12)], () => [pts(13)], () => [pts(0)], () => [pts(2)], () => [pts(1)]],
    },
    {
      name: 'a length over a scalar that is not a divisor, and a bound narrowed by i <= n',
      fn: (a: Int32Array, k: number) => {
        const per = a.length / k
        let s = 0
        for (let i = 0; i < per; i++) s += a[i * k] ?? -1
        for (let i = 2; i <= per; i++) s += (s % per) | 0
        return s
      },
      argSets: [() => [Int32Array.of(1, 2, 3, 4, 5, 6), 3], () => [Int32Array.of(1, 2, 3, 4, 5, 6, 7), 3], () => [new Int32Array(0), 4], () => [Int32Array.of(9, 8), 1]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('small counted loops are unrolled with the same meaning', () => {
  const fixtures: Fixture[] = [
    {
      name: '5-tap and 3-channel loops, a return inside, 8 and 9 trips, out-of-bounds taps',
      fn: (a: Float64Array, out: Float64Array, stop: number) => {
        for (let i = 0; i < a.length; i++) {
          let s = 0
          for (let k = -2; k <= 2; k++) s += a[i + k] * (k + 3)
          for (let c = 0; c < 3; c++) out[(i * 3 + c) % out.length] = s + c
          for (let j = 0; j < 8; j++) {
            if (j === stop) return s + j
            s -= j
          }
          for (let j = 0; j < 9; j++) s += j
          out[i % out.length] += s
        }
        return -1
      },
      argSets: [() => [Float64Array.of(1, 2, 3, 4, 5, 6), new Float64Array(7), 99], () => [Float64Array.of(1, NaN, -0), new Float64Array(4), 5], () => [new Float64Array(0), new Float64Array(1), 0]],
    },
    {
      // Constant-array elements under an unrolled counter are immediates; taps before the first
      // element and past the last are undefined, as in JS (NaN in a sum, `undefined` compared).
      name: 'constant taps indexed by unrolled counters, in range and out of it',
      fn: (a: Float64Array, out: Float64Array) => {
        for (let i = 0; i < a.length; i++) {
          let s = 0
          let missing = 0
          for (let k = -2; k <= 2; k++) s += WEIGHTS[k + 2] * a[i]
          for (let k = -1; k <= 5; k++) if (WEIGHTS[k] === undefined) missing++
          for (let c = 0; c < 3; c++) s += TAPS[2 * c + 1] - TAPS[c * c]
          out[i] = s + missing + WEIGHTS[i % 7]
        }
      },
      deps: { WEIGHTS, TAPS },
      signature: '(f64[], f64[]) => void',
      argSets: [() => [Float64Array.of(1, -0, NaN, 3.5, -2, 1e300, 7), new Float64Array(7)], () => [new Float64Array(0), new Float64Array(1)]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('bounds checked once per loop where the index is affine in the counter (bounds.ts)', () => {
  const f64s = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => ((i * seed) % 17) - 8 + (i % 5 === 0 ? 0.5 : 0))
  const fixtures: Fixture[] = [
    {
      // n larger than the arrays (reads past the end are undefined), n = 0, and the exact fit.
      name: 'matmul with n that may not fit the arrays',
      fn: function matmul(a: Float64Array, b: Float64Array, c: Float64Array, n: number) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0
            for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]
            c[i * n + j] = s
          }
        }
      },
      signature: '(f64[], f64[], f64[], i32) => void',
      argSets: [() => [f64s(9, 3), f64s(9, 5), new Float64Array(9), 3], () => [f64s(9, 3), f64s(7, 5), new Float64Array(8), 3], () => [f64s(4, 3), f64s(4, 5), new Float64Array(4), 0], () => [f64s(16, 3), f64s(16, 5), new Float64Array(16), 5]],
    },
    {
      // Negative and past-the-end indices at either end of the range, a stride of 3, an
      // initializer that assigns, and a loop that stops before its range leaves the array.
      name: 'strides, offsets and an early exit',
      fn: (a: Float64Array, out: Float64Array, lo: number, hi: number, stop: number) => {
        let s = 0
        let i = 0
        for (i = lo; i < hi; i += 3) {
          out[i - lo] = a[2 * i + 1] - a[i - 1]
          if (i >= stop) break
          s += a[hi - i] * 2
        }
        for (let j = 1; j <= a.length; j++) s += a[j - 1] + a[j]
        return s + i
      },
      signature: '(f64[], f64[], i32, i32, i32) => f64',
      argSets: [() => [f64s(20, 7), new Float64Array(10), 1, 9, 100], () => [f64s(20, 7), new Float64Array(3), 0, 12, 100], () => [f64s(20, 7), new Float64Array(10), 2, 40, 8], () => [f64s(5, 7), new Float64Array(2), -4, 3, 0]],
    },
    {
      // Locals declared in the body stand for their initializers; one reassigned does not.
      name: 'a 3×3 stencil through locals, with an unrolled inner loop',
      fn: function stencil(src: Uint8ClampedArray, dst: Uint8ClampedArray, w: number, h: number) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            let s = 0
            for (let dy = -1; dy <= 1; dy++) {
              const yy = y + dy
              for (let dx = -1; dx <= 1; dx++) {
                const xx = x + dx
                let t = yy * w
                t += xx
                s += src[yy * w + xx] + (src[t] | 0)
              }
            }
            dst[y * w + x] = s / 18
          }
        }
      },
      signature: '(u8c[], u8c[], i32, i32) => void',
      argSets: [() => [Uint8ClampedArray.from({ length: 30 }, (_, i) => i * 37), new Uint8ClampedArray(30), 6, 5], () => [Uint8ClampedArray.from({ length: 12 }, (_, i) => i * 91), new Uint8ClampedArray(12), 5, 3]],
    },
    {
      // Indices bounded by their type alone (& 255, % 64 of an int in range): tested against
      // the length once; a table shorter than the bound keeps every access checked.
      name: 'histogram bins by & and %, tables shorter than, equal to and longer than the bound',
      fn: (data: Int32Array, hist: Int32Array, small: Float64Array) => {
        let s = 0
        for (let i = 0; i < data.length; i++) {
          hist[data[i] & 255]++
          s += small[(data[i] & 1023) % 64]
        }
        return s
      },
      signature: '(i32[], i32[], f64[]) => f64',
      argSets: [
        () => [Int32Array.from({ length: 40 }, (_, i) => i * 37 - 500), new Int32Array(256), Float64Array.from({ length: 64 }, (_, i) => i / 3)],
        () => [Int32Array.from({ length: 40 }, (_, i) => i * 91), new Int32Array(100), Float64Array.from({ length: 10 }, (_, i) => i)],
        () => [Int32Array.of(255, 254, -1), new Int32Array(300), new Float64Array(64)],
      ],
    },
    {
      // Int arrays in speculative modules: the fast copy drops the trap, the checked one keeps it.
      name: 'int loads and stores, overflowing sums, out of bounds on some calls',
      fn: (a: Int32Array, h: Int32Array, k: number) => {
        let s = 0
        for (let i = 0; i < a.length - k; i++) {
          h[a[i] & 7] += a[i + k]
          s += a[i * 2] | 0
        }
        return s
      },
      signature: '(i32[], i32[], i32) => f64',
      argSets: [() => [Int32Array.from({ length: 12 }, (_, i) => i * 2147483 - 7), new Int32Array(8), 2], () => [Int32Array.from({ length: 6 }, (_, i) => 2147483647 - i), new Int32Array(8), -3], () => [new Int32Array(0), new Int32Array(8), 0]],
    },
    {
      // Edge-clamped taps through a helper: the clamp's ends stand for the term. Widths whose
      // rows do not fit the array, a width of 0 and 1, the arrays passed twice (aliased), and
      // an end past the array (`w` instead of `w - 1`: undefined reads on the last column).
      name: 'a 5-tap blur whose taps are clamped to the row by a helper',
      fn: function blur(src: Uint8ClampedArray, dst: Uint8ClampedArray, w: number, edge: number) {
        const rows = src.length / (4 * w)
        for (let y = 0; y < rows; y++) {
          for (let x = 0; x < w; x++) {
            for (let c = 0; c < 3; c++) {
              let sum = 0
              for (let k = -2; k <= 2; k++) {
                const xx = clamp(x + k, 0, w - edge)
                sum += WEIGHTS[k + 2] * src[(y * w + xx) * 4 + c]
              }
              dst[(y * w + x) * 4 + c] = sum
            }
          }
        }
      },
      deps: { clamp, WEIGHTS },
      signature: '(u8c[], u8c[], i32, i32) => void',
      argSets: [
        () => [Uint8ClampedArray.from({ length: 96 }, (_, i) => i * 37), new Uint8ClampedArray(96), 6, 1],
        () => [Uint8ClampedArray.from({ length: 96 }, (_, i) => i * 37), new Uint8ClampedArray(96), 6, 0],
        () => [Uint8ClampedArray.from({ length: 40 }, (_, i) => i * 11), new Uint8ClampedArray(40), 7, 1],
        () => [Uint8ClampedArray.from({ length: 8 }, (_, i) => i * 29), new Uint8ClampedArray(8), 1, 1],
        () => [Uint8ClampedArray.from({ length: 16 }, (_, i) => i * 29), new Uint8ClampedArray(16), 2, 3],
        () => { const a = Uint8ClampedArray.from({ length: 48 }, (_, i) => i * 53); return [a, a, 4, 1] },
      ],
    },
    {
      // The clamp written out: ternaries either way round, Math.min of Math.max and the
      // mirror, ends that are parameters (possibly crossed: lo > hi), and a clamp of a
      // product (not a counter). A one-sided clamp (only Math.max) bounds nothing.
      name: 'clamped indices written as ternaries and as Math.min / Math.max',
      fn: (a: Float64Array, out: Float64Array, lo: number, hi: number) => {
        let s = 0
        for (let i = 0; i < out.length; i++) {
          const j = i - 3 < lo ? lo : i - 3 > hi ? hi : i - 3
          const k = i + 2 > hi ? hi : i + 2 < lo ? lo : i + 2
          out[i] = a[j] + a[Math.min(Math.max(i * 3, lo), hi)] + a[Math.max(Math.min(i, hi), 0)]
          s += a[k] - a[Math.max(i - 1, lo)]
        }
        return s
      },
      signature: '(f64[], f64[], i32, i32) => f64',
      argSets: [
        () => [f64s(12, 5), new Float64Array(10), 0, 11],
        () => [f64s(12, 5), new Float64Array(10), 2, 14],
        () => [f64s(12, 5), new Float64Array(10), -3, 5],
        () => [f64s(12, 5), new Float64Array(10), 8, 3],
        () => [f64s(3, 5), new Float64Array(6), 0, 2],
      ],
    },
    {
      // Counted inner loops inside the versioned one range from their start to their last
      // value: stepped by 2, starting past 0, running zero times (start above the bound), and
      // reaching one element past the end on the last row or column only.
      name: 'counted inner loops with invariant bounds, tested from the outer loop',
      fn: (a: Float64Array, out: Float64Array, w: number, h: number, k0: number, k1: number) => {
        let s = 0
        for (let y = 0; y < h; y++) {
          for (let c = k0; c < k1; c += 2) {
            out[y * w + c] = a[y * w + c + 1] * 2
            s += a[(h - 1 - y) * w + c]
          }
          for (let d = 0; d <= 2; d++) s += a[y + d * w]
        }
        return s
      },
      signature: '(f64[], f64[], i32, i32, i32, i32) => f64',
      argSets: [
        () => [f64s(24, 3), new Float64Array(24), 6, 4, 0, 6],
        () => [f64s(24, 3), new Float64Array(24), 6, 4, 1, 7],
        () => [f64s(24, 3), new Float64Array(24), 6, 4, 5, 2],
        () => [f64s(20, 3), new Float64Array(24), 6, 4, 0, 6],
        () => [f64s(24, 3), new Float64Array(24), 6, 0, 0, 6],
      ],
    },
    {
      // Shaped like a clamp, but past `hi` it is the index itself (unbounded above): not a
      // clamped term, so its reads past the end stay undefined.
      name: 'a clamp-shaped index that is unbounded above stays checked',
      fn: (a: Float64Array, out: Float64Array, lo: number, hi: number) => {
        for (let i = 0; i < out.length; i++) out[i] = a[i * 2 < lo ? lo : i * 2 > hi ? i * 2 : hi]
      },
      signature: '(f64[], f64[], i32, i32) => void',
      argSets: [() => [f64s(12, 5), new Float64Array(10), 0, 11], () => [f64s(12, 5), new Float64Array(10), 3, 5]],
    },
    {
      // A clamped term inside a local that several indices read (one term, one range), and a
      // local of the outer loop (Math.floor of a ratio) that is no end: it changes per row.
      name: 'a running box blur and a nearest-neighbour resize, as libraries write them',
      fn: function blurResize(src: Uint8ClampedArray, dst: Uint8ClampedArray, w: number, h: number, radius: number, out: Uint8ClampedArray, dw: number, dh: number) {
        for (let y = 0; y < h; y++) {
          const yi = y * w * 4
          let rs = 0
          let gs = 0
          for (let i = -radius; i <= radius; i++) {
            const p = yi + Math.min(w - 1, Math.max(i, 0)) * 4
            rs += src[p]
            gs += src[p + 1] + src[p + 2]
          }
          for (let x = 0; x < w; x++) {
            const o = yi + x * 4
            dst[o] = rs / (2 * radius + 1)
            dst[o + 1] = gs / (4 * radius + 2)
            const p1 = yi + Math.min(x + radius + 1, w - 1) * 4
            const p2 = yi + Math.max(x - radius, 0) * 4
            rs += src[p1] - src[p2]
            gs += src[p1 + 1] - src[p2 + 1] + src[p1 + 2] - src[p2 + 2]
          }
        }
        const xr = w / dw
        const yr = h / dh
        for (let y = 0; y < dh; y++) {
          const sy = Math.floor(y * yr)
          for (let x = 0; x < dw; x++) {
            const sx = Math.floor(x * xr)
            const si = (sy * w + sx) * 4
            out[(y * dw + x) * 4] = src[si] + src[si + 3]
          }
        }
      },
      signature: '(u8c[], u8c[], i32, i32, i32, u8c[], i32, i32) => void',
      argSets: [
        () => [clampedOf(96, 37), new Uint8ClampedArray(96), 6, 4, 2, new Uint8ClampedArray(64), 4, 4],
        () => [clampedOf(96, 11), new Uint8ClampedArray(96), 6, 4, 9, new Uint8ClampedArray(36), 3, 3],
        () => [clampedOf(40, 29), new Uint8ClampedArray(40), 5, 2, 0, new Uint8ClampedArray(200), 10, 5],
        () => [clampedOf(40, 29), new Uint8ClampedArray(40), 7, 2, 1, new Uint8ClampedArray(16), 2, 2],
      ],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))

  test('a versioned loop is emitted twice: a checked copy and one without bounds checks', async () => {
    const binaryen = await compilersBinaryen()
    const loads = (index: string) => {
      const r = compileKernel({
        source: `(a, b, n) => { let s = 0; for (let i = 0; i < n; i++) s += a[${index}] * b[n - i]; return s }`,
        deps: { clamp: clamp.toString() },
        signature: '(f64[], f64[], i32) => f64',
        assume: { intRanges: [null, null, [1, 1024]] },
      })
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'))
      const text = binaryen.readBinary(r.wasm).emitText()
      return { loads: text.match(/f64\.load/g)?.length ?? 0, undefinedReads: text.match(/nan:0xbadf00d/g)?.length ?? 0 }
    }
    // With n in [1, 1024] (a range variant), i * 2 and n - i are ints affine in the counter: two
    // copies, one with no undefined-on-out-of-bounds reads. i * i is not affine, but inference
    // bounds it below 2^20: tested once too. i * i * i is neither: it stays checked in both
    // copies, while b[n - i] drops its check in one.
    expect(loads('i * 2')).toEqual({ loads: 4, undefinedReads: 2 })
    expect(loads('i * i')).toEqual({ loads: 4, undefinedReads: 2 })
    expect(loads('i * i * i')).toEqual({ loads: 4, undefinedReads: 3 })
    // A clamped index lies between the clamp's ends: tested once, in any of the forms written;
    // a clamp on one side only bounds nothing.
    for (const clamped of ['clamp(i - 2, 0, n - 1)', 'i + 1 > n - 1 ? n - 1 : i + 1 < 0 ? 0 : i + 1', 'Math.min(Math.max(i * 5, 1), n)', 'Math.max(0, Math.min(n - i, 7))']) {
      expect(loads(clamped), clamped).toEqual({ loads: 4, undefinedReads: 2 })
    }
    expect(loads('Math.max(i * i * i, 0)')).toEqual({ loads: 4, undefinedReads: 3 })
  })

  test('a loop stepping by k is tested at its own last counter value, not at the bound less 1', async () => {
    // `i += 4` over RGBA reads px[i + 3]; at i = length - 1 that would be past the end, so a
    // test at bound - 1 fails for every image and the checked copy always runs.
    const binaryen = await compilersBinaryen()
    const r = compileKernel({ source: '(px) => { let s = 0; for (let i = 0; i < px.length; i += 4) s += px[i] + px[i + 3]; return s }', signature: '(u8c[]) => f64' })
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'))
    expect(binaryen.readBinary(r.wasm).emitText()).toMatch(/i64\.div_s/)
    const k = kernel((px: Uint8ClampedArray) => { let s = 0; for (let i = 0; i < px.length; i += 4) s += px[i] + px[i + 3]; return s }, { signatures: ['(u8c[]) => f64'] })
    await k.ready()
    for (const n of [0, 3, 4, 5, 8, 11, 64]) {
      const px = Uint8ClampedArray.from({ length: n }, (_, i) => i * 7)
      let s = 0
      for (let i = 0; i < px.length; i += 4) s += px[i] + px[i + 3]
      expect(k.tier('(u8c[]) => f64')).not.toBe('js')
      expect(k(px)).toBe(s)
    }
  })
})

describe('clamped byte stores skip the clamp only where the value is already a byte', () => {
  const fixtures: Fixture[] = [
    {
      // Bytes copied (in range), bytes plus one (an int past 255), halves (round half to even),
      // a bounded number, NaN and -0 from a division.
      name: 'byte copies, ints past 255, halves, bounded numbers, NaN and -0',
      fn: (src: Uint8ClampedArray, bytes: Uint8Array, dst: Uint8ClampedArray, k: number) => {
        for (let i = 0; i < src.length; i++) {
          const o = i * 6
          dst[o] = src[i]
          dst[o + 1] = bytes[i] + 1
          dst[o + 2] = src[i] / 2
          dst[o + 3] = (i & 3) + 0.5
          dst[o + 4] = src[i] / k
          dst[o + 5] = -src[i] / 4
        }
      },
      signature: '(u8c[], u8[], u8c[], f64) => void',
      argSets: [() => [Uint8ClampedArray.of(0, 1, 3, 254, 255, 5), Uint8Array.of(255, 0, 7, 254, 255, 1), new Uint8ClampedArray(36), 0], () => [Uint8ClampedArray.of(9, 200), Uint8Array.of(3, 255), new Uint8ClampedArray(12), 3]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

// Helpers the simd128 fixtures call (lanes take them inline).
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed) & 255)
const clampedOf = (n: number, seed: number) => Uint8ClampedArray.from({ length: n }, (_, i) => (i * seed) & 255)
/** n values, each run of four (a pixel's channels) the next of `edges`, cycling. */
const edgesOf = (n: number, edges: number[]) => Float64Array.from({ length: n }, (_, i) => edges[(i >> 2) % edges.length])
const WEIGHTS = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]
const TAPS = [3, -1, 4, 1, -5, 9, 2, -6]
function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x
}
function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t
}
function lerpC(a: number, b: number, t: number): number {
  return a + (b - a) * t
}
function curve(x: number, k: number): number {
  const s = Math.sin(x * 3.14159) * k
  return x + (s > 1 ? 1 : s < -1 ? -1 : lerpC(0, s, 0.1))
}

describe('two iterations at once in simd128 where they are independent (vectorize.ts)', () => {
  const EDGE = [NaN, -0, 0, Infinity, -Infinity, 1e308, -1e308, 5e-324, 0.5, -2.5]
  const f64s = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => (i % 7 === 3 ? EDGE[(i * seed) % EDGE.length] : ((i * seed) % 23) / 3 - 3))
  const fixtures: Fixture[] = [
    {
      // Odd lengths leave one iteration to the scalar loop; NaN, -0 and infinities in every lane.
      name: 'element-wise arithmetic, Math per lane and lane-wise, a ternary, odd and empty lengths',
      fn: (a: Float64Array, b: Float64Array, out: Float64Array, k: number) => {
        for (let i = 0; i < a.length; i++) {
          const x = a[i]
          const y = b[i] * k - 1
          out[i] = x > y ? Math.sqrt(x) + Math.floor(y) : Math.min(x, y) / Math.max(-x, 0) - Math.abs(Math.trunc(x) - Math.ceil(y)) + Math.sin(x) * Math.atan2(y, x)
        }
      },
      signature: '(f64[], f64[], f64[], f64) => void',
      argSets: [() => [f64s(11, 3), f64s(11, 5), new Float64Array(11), 2], () => [f64s(10, 7), f64s(10, 2), new Float64Array(10), -0.5], () => [f64s(0, 1), f64s(0, 1), new Float64Array(0), 1], () => [f64s(1, 1), f64s(1, 1), new Float64Array(1), 3]],
    },
    {
      // Stride 2 with offsets 0 and 1 is independent; i and i + 1 of one array is not (scalar).
      name: 'interleaved stores, and neighbouring ones that must stay in order',
      fn: (a: Float64Array, out: Float64Array, dep: Float64Array) => {
        for (let i = 0; i < a.length; i++) {
          out[2 * i] = a[i] * 2
          out[2 * i + 1] = a[i] - out[2 * i]
        }
        for (let i = 0; i < a.length; i++) {
          dep[i] = a[i] + 1
          dep[i + 1] = dep[i] * 2
        }
      },
      signature: '(f64[], f64[], f64[]) => void',
      argSets: [() => [f64s(9, 3), new Float64Array(18), new Float64Array(10)], () => [f64s(8, 5), new Float64Array(16), new Float64Array(9)]],
    },
    {
      // Each pixel's own escape loop: lanes leave at different trips (a break, and the test),
      // a local read after the loop, masked ifs, and per-lane stores into clamped bytes and f32.
      name: 'escape-time loops per pixel with break, if and stores of every width',
      fn: function escape(out: Int32Array, bytes: Uint8ClampedArray, fl: Float32Array, w: number, h: number, maxIter: number) {
        for (let py = 0; py < h; py++) {
          for (let px = 0; px < w; px++) {
            const x0 = (px / w) * 3.5 - 2.5
            const y0 = (py / h) * 2 - 1
            let x = 0
            let y = 0
            let iter = 0
            let trap = 0
            while (iter < maxIter) {
              const xt = x * x - y * y + x0
              y = 2 * x * y + y0
              x = xt
              if (x * x + y * y > 4) break
              if (x < 0) trap += x
              else trap -= 0.5
              iter++
            }
            out[py * w + px] = iter
            bytes[py * w + px] = trap * 7 + x
            fl[py * w + px] = y / 3
          }
        }
      },
      signature: '(i32[], u8c[], f32[], i32, i32, i32) => void',
      argSets: [() => [new Int32Array(35), new Uint8ClampedArray(35), new Float32Array(35), 7, 5, 40], () => [new Int32Array(16), new Uint8ClampedArray(16), new Float32Array(16), 4, 4, 0], () => [new Int32Array(9), new Uint8ClampedArray(9), new Float32Array(9), 3, 3, 1000]],
    },
    {
      // Pixels at a step of 4 through helpers taken inline (a declaration, a ternary, a nested
      // helper, Math per lane), clamped byte stores per lane, an odd pixel count.
      name: 'RGBA pixels at a step of 4 through inlined helpers',
      fn: function tone(px: Uint8ClampedArray, k: number) {
        for (let i = 0; i < px.length; i += 4) {
          px[i] = clamp(px[i] * 1.2 + k, 0, 255)
          px[i + 1] = lerp(px[i + 1], 255 - px[i], k / 100)
          px[i + 2] = curve(px[i + 2] / 255, k) * 255
        }
      },
      deps: { clamp, lerp, curve, lerpC },
      signature: '(u8c[], f64) => void',
      argSets: [() => [Uint8ClampedArray.from({ length: 28 }, (_, i) => (i * 37) & 255), 12.5], () => [Uint8ClampedArray.from({ length: 24 }, (_, i) => (i * 91) & 255), -300], () => [Uint8ClampedArray.from({ length: 8 }, (_, i) => i), NaN]],
    },
    {
      // Byte loads and clamped byte stores in lanes: every rounding and clamping edge a lane
      // store meets (ties to even, ±0.5 around 0 and 255, NaN, ±Infinity, -0), from u8 and u8c
      // sources, plus clamps written as ternaries (pseudo-min/max in lanes) over NaN and -0.
      name: 'byte lanes: ToUint8Clamp edges, u8 sources, and ternary clamps over NaN and -0',
      fn: function bytes(src: Uint8Array, px: Uint8ClampedArray, edges: Float64Array, out: Float64Array, k: number) {
        for (let i = 0; i < px.length; i += 4) {
          const e = edges[i]
          px[i] = e
          px[i + 1] = src[i + 1] * k + e
          px[i + 2] = src[i] < px[i + 3] ? px[i + 3] : src[i]
          out[2 * i] = e < 0 ? 0 : e > 1 ? 1 : e
          out[2 * i + 1] = e > k ? e : k
          out[2 * i + 2] = k < e ? k : e
          out[2 * i + 3] = clamp(e, -0, -0)
          out[2 * i + 4] = e < 0 ? 0 : e
          out[2 * i + 5] = e > -0 ? -0 : e
        }
      },
      deps: { clamp },
      signature: '(u8[], u8c[], f64[], f64[], f64) => void',
      argSets: [
        () => [bytesOf(64, 53), clampedOf(64, 29), edgesOf(64, [0.5, 1.5, 2.5, -0.5, -0, 254.5, 255.5, 256, -1, NaN, Infinity, -Infinity, 3.49999, 127.5, 0, 1]), new Float64Array(128), 1],
        () => [bytesOf(64, 53), clampedOf(64, 29), edgesOf(64, [NaN, -0, 0.25, 300]), new Float64Array(128), NaN],
        () => [bytesOf(44, 1), clampedOf(44, 7), edgesOf(44, [-0, 0.5, 1e308, -1e-300]), new Float64Array(88), -0],
        () => [bytesOf(12, 1), clampedOf(12, 3), edgesOf(12, [2.5, -2.5]), new Float64Array(24), -2.5],
      ],
    },
    {
      // An inner counted loop per lane, a lane-local sum read after it, int loads per lane.
      name: 'an inner for loop per iteration with a data-dependent trip count',
      fn: (counts: Int32Array, data: Float64Array, out: Float64Array) => {
        for (let i = 0; i < counts.length; i++) {
          let s = 0
          const c = counts[i]
          for (let k = 0; k < c; k++) {
            s += (k + 1) * data[i]
            if (s > 100) break
          }
          out[i] = s
        }
      },
      signature: '(i32[], f64[], f64[]) => void',
      argSets: [() => [Int32Array.of(0, 3, 1, 7, 2, 0, 5), f64s(7, 3), new Float64Array(7)], () => [Int32Array.of(4, 4), Float64Array.of(NaN, 50), new Float64Array(2)]],
    },
    {
      // Four iterations in flight (two groups through one fused inner loop): a group whose lanes
      // all left keeps running masked while the other finishes; do-while and for inner loops;
      // 1 to 3 iterations left over for the scalar loop; values after the loop that depend on
      // when each lane left.
      name: 'fused inner loops of two groups of lanes, with groups that finish far apart',
      fn: (counts: Int32Array, data: Float64Array, out: Float64Array, tail: Float64Array) => {
        for (let i = 0; i < counts.length; i++) {
          const c = counts[i]
          let s = data[i]
          let k = 0
          let z = -0
          do {
            s = s * 0.5 + k
            k++
            if (s > 50) break
            z++
          } while (k < c)
          out[i] = s + k
          // A counter from -0 keeps it in lanes that never count (1 / z is -Infinity there).
          tail[i] = s * c - k + 1 / z
        }
      },
      signature: '(i32[], f64[], f64[], f64[]) => void',
      argSets: [
        () => [Int32Array.of(0, 30, 1, 2, 40, 0, 3, 0, 9), f64s(9, 5), new Float64Array(9), new Float64Array(9)],
        () => [Int32Array.of(60, 0, 0, 0, 60, 1), Float64Array.of(NaN, -0, 1e300, 3, 200, -7), new Float64Array(6), new Float64Array(6)],
        () => [Int32Array.of(5, 5, 5, 5, 5), f64s(5, 2), new Float64Array(5), new Float64Array(5)],
        () => [Int32Array.of(7, 1, 7, 1, 7, 1, 7, 1, 7, 1), f64s(10, 9), new Float64Array(10), new Float64Array(10)],
      ],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))

  test('arrays that share memory run one iteration at a time, as JS does', async () => {
    const shift = kernel(function shift(a: Float64Array, out: Float64Array) {
      for (let i = 0; i < a.length; i++) out[i] = a[i] * 2 + 1
    }, { signatures: ['(f64[], f64[]) => void'] })
    await shift.ready()
    for (const [from, to] of [[0, 1], [1, 0], [0, 0], [0, 8]]) {
      const js = Float64Array.from({ length: 24 }, (_, i) => i * 1.5 - 4)
      shift(js.subarray(from, from + 12), js.subarray(to, to + 12)) // JS tier or general module: warm-up
      await shift.ready()
      const want = Float64Array.from({ length: 24 }, (_, i) => i * 1.5 - 4)
      ;((a: Float64Array, out: Float64Array) => { for (let i = 0; i < a.length; i++) out[i] = a[i] * 2 + 1 })(want.subarray(from, from + 12), want.subarray(to, to + 12))
      const copied = Float64Array.from({ length: 24 }, (_, i) => i * 1.5 - 4)
      shift(copied.subarray(from, from + 12), copied.subarray(to, to + 12))
      expect(Array.from(copied)).toEqual(Array.from(want))
      const zero = alloc(Float64Array, 24)
      zero.set(Float64Array.from({ length: 24 }, (_, i) => i * 1.5 - 4))
      shift(zero.subarray(from, from + 12), zero.subarray(to, to + 12))
      expect(Array.from(zero)).toEqual(Array.from(want))
      free(zero)
    }
    expect(shift.tier('(f64[], f64[])')).toBe('compiled')
    expect(shift.specializations('(f64[], f64[])').some((v) => v.includes('simd'))).toBe(true)
  })

  test('the loops that qualify use simd128; reductions and carried values do not', () => {
    const simd = (source: string, signature: string) => {
      const r = compileKernel({ source, signature, assume: { maxLength: 1 << 24, simd: true } })
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'))
      return r.meta.simd === true
    }
    expect(simd('(a, b) => { for (let i = 0; i < a.length; i++) b[i] = a[i] * 3 }', '(f64[], f64[]) => void')).toBe(true)
    expect(simd('(a) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s }', '(f64[]) => f64')).toBe(false)
    expect(simd('(a) => { for (let i = 1; i < a.length; i++) a[i] += a[i - 1] }', '(f64[]) => void')).toBe(false)
    expect(simd('(a, b) => { let t = 0; for (let i = 0; i < a.length; i++) { t = t * 0.5 + a[i]; b[i] = t } }', '(f64[], f64[]) => void')).toBe(false)
    // Without the assumption nothing is vectorized.
    const plain = compileKernel({ source: '(a, b) => { for (let i = 0; i < a.length; i++) b[i] = a[i] * 3 }', signature: '(f64[], f64[]) => void' })
    expect(plain.ok && plain.meta.simd).toBeFalsy()
  })
})

describe('ranges that keep growing, and sums under ToInt32, in speculative modules', () => {
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 7) & 255)
  const fixtures: Fixture[] = [
    {
      // zlib's blocking: len and n are ints whose ranges inference cannot bound (they widen to
      // int32, checked); (a + buf[pos]) | 0 wraps without a check; a %= 65521 is a checked remainder.
      name: 'adler32 over block boundaries',
      fn: function adler32(buf: Uint8Array) {
        let a = 1
        let b = 0
        let len = buf.length
        let pos = 0
        while (len > 0) {
          let n = len > 5552 ? 5552 : len
          len -= n
          while (n > 0) {
            a = (a + buf[pos]) | 0
            b = (b + a) | 0
            pos++
            n--
          }
          a %= 65521
          b %= 65521
        }
        return (a | (b << 16)) >>> 0
      },
      argSets: [() => [bytes(0, 3)], () => [bytes(1, 5)], () => [bytes(5553, 7)], () => [bytes(12000, 11)]],
    },
    {
      name: 'a counter that leaves int32 mid-call, and negative remainders that are -0',
      fn: (a: Int32Array, step: number) => {
        let c = 2147483000
        let r = 0
        for (let i = 0; i < a.length; i++) {
          c += step
          r += 1 / (a[i] % 4) // 1 / -0 is -Infinity
        }
        return c + r
      },
      argSets: [() => [Int32Array.of(1, 2, 3, 5), 3], () => [Int32Array.of(1, 2, 3), 400], () => [Int32Array.of(-8, 5, -3), 1], () => [new Int32Array(0), 7]],
    },
  ]
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})
