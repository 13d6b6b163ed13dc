// Defects differential fuzzing found, each in its minimized form, on the inputs that showed it:
// the compiled kernel must give exactly what the plain function gives, in every tier (the general
// module, the speculative range variants, their safe twins), on copied and zero-copy arrays.

import { kernel } from 'kiln'
import { describe, expect, test } from 'vitest'
import { checkEveryTier, toKernelMemory, type Fixture } from './support/tiers.js'


const E: number[] = []
const W = [0.299, -0, 1e308, NaN]
const INTS = [3, -7]

/** A helper whose local is written, never read (so it lives as ToInt32 of itself). */
function tiny(a: number): boolean {
  // @ts-expect-error never read, on purpose
  let v = 0
  return (v = 5e-324 * a) == 0
}

/** A helper whose last parameter may be missing (called with one, two and three arguments). */
const withDefault = function withDefault(x: number, y?: number): number {
  if (y === undefined) return x
  return x + y
} as (...args: number[]) => number

/** Its second parameter is never given: it returns undefined. */
function undefinedParam(x: number, y?: number): number | undefined {
  return x === x ? y : y
}

const fixtures: Fixture[] = [
  // 1. A boolean result came back as 1 or 0.
  { name: 'bool result, declared', fn: (a: number, b: number) => a < b, signature: '(f64, f64) => bool', argSets: [() => [1, 2], () => [2, 1], () => [NaN, 1]] },
  {
    name: 'bool result, inferred',
    fn: function allPositive(a: Float64Array) {
      for (let i = 0; i < a.length; i++) if (!(a[i] > 0)) return false
      return true
    },
    argSets: [() => [Float64Array.of(1, 2, 3)], () => [Float64Array.of(1, -2, 3)], () => [new Float64Array(0)]],
  },
  // 2. An out-of-bounds read is undefined, not NaN: equal to another undefined, and returned as undefined.
  {
    name: 'out-of-bounds reads compared',
    fn: (a: Float64Array, i: number, j: number) => {
      let r = 0
      if (a[i] === a[j]) r += 1
      if (a[i] == a[j]) r += 2
      if (a[i] !== a[j]) r += 4
      if (a[i] != a[j]) r += 8
      const x = a[a.length]
      if (x == x) r += 16
      if (Math.abs(a[i]) === Math.abs(a[j])) r += 32
      if (a[i] === undefined) r += 64
      if (a[i] + 1 === a[j] + 1) r += 128
      return r
    },
    signature: '(f64[], i32, i32) => f64',
    argSets: [() => [Float64Array.of(1, 2), 5, 6], () => [Float64Array.of(1, NaN), 1, 1], () => [Float64Array.of(1, 2), 0, 0], () => [Float64Array.of(1, 2), 1, 9], () => [new Float64Array(0), -1, 0]],
  },
  {
    name: 'an out-of-bounds read returned (inferred result)',
    fn: (a: Float64Array, i: number) => a[i],
    argSets: [() => [Float64Array.of(1, 2), 5], () => [Float64Array.of(1, 2), 1], () => [Float64Array.of(NaN), 0], () => [new Float64Array(0), 0]],
  },
  {
    name: 'an out-of-bounds integer read returned, declared result',
    fn: (a: Int32Array, i: number) => a[i],
    signature: '(i32[], i32) => f64',
    argSets: [() => [Int32Array.of(1, 2), 5], () => [Int32Array.of(7, 2), 0], () => [Int32Array.of(1, 2), -1]],
  },
  {
    name: 'undefined through locals, ?:, ||, ?? and ??=',
    fn: (a: Uint8Array, i: number, d: number) => {
      let x = a[i]
      const y = i > 2 ? a[i + 1] : d
      let z = a[i - 1]
      z ??= d * 2
      const w = x || y
      let r = (x ?? -1) + (y ?? -2) + z + (w ?? -3)
      if (x === y) r += 1000
      x = d
      if (x === undefined) r += 2000
      return r
    },
    argSets: [() => [Uint8Array.of(1, 0, 3), 1, 5], () => [Uint8Array.of(1, 2, 3), 3, 0.5], () => [Uint8Array.of(9), 4, NaN], () => [new Uint8Array(0), 0, -0]],
  },
  {
    name: 'falling off the end returns undefined',
    fn: (a: Float64Array, t: number) => {
      for (let i = 0; i < a.length; i++) if (a[i] > t) return i
    },
    argSets: [() => [Float64Array.of(1, 5, 9), 4], () => [Float64Array.of(1, 5, 9), 10], () => [new Float64Array(0), 0]],
  },
  {
    name: 'a boolean or nothing',
    fn: (a: Int32Array) => {
      if (a.length === 0) return
      for (let i = 0; i < a.length; i++) if (a[i] < 0) return false
      if (a[0] > 5) return true
    },
    argSets: [() => [Int32Array.of(1, -5)], () => [Int32Array.of(9, 5)], () => [Int32Array.of(1, 5)], () => [new Int32Array(0)]],
  },
  {
    name: 'a helper called with fewer arguments than it declares, and with more',
    fn: (a: Float64Array, x: number) => {
      let s = withDefault(x) + withDefault(x, 2) + withDefault(x, 2, a[0] = 7)
      if (undefinedParam(x) === undefinedParam(x + 1)) s += 100
      return s + a[0]
    },
    deps: { withDefault, undefinedParam },
    signature: '(f64[], f64) => f64',
    argSets: [() => [Float64Array.of(1), 3], () => [Float64Array.of(1), NaN], () => [new Float64Array(0), -0]],
  },
  {
    name: 'undefined and void as values',
    fn: (x: number) => {
      const u = x > 0 ? undefined : x
      const v = void (x + 1)
      return (u === v ? 1 : 0) + (u == undefined ? 2 : 0) + (u !== x ? 4 : 0) + (v ?? 8)
    },
    signature: '(f64) => f64',
    argSets: [() => [1], () => [-1], () => [NaN], () => [0]],
  },
  // Found by our fuzzer: on a typed array, `a[undefined]` is its ordinary property "undefined".
  {
    name: 'an undefined index reads and writes the property "undefined"',
    fn: (a: Float64Array, b: Uint8Array, i: number) => {
      a[b[i]] = 7
      const r = a[b[i + 1]]
      a[b[i]] += 1
      a[b[i]]++
      return r + a[b[i + 2]] + (a[b[0]] ?? 100)
    },
    signature: '(f64[], u8[], i32) => f64',
    argSets: [() => [Float64Array.of(1, 2), Uint8Array.of(1), 4], () => [Float64Array.of(1, 2), Uint8Array.of(1, 0, 1, 0), 0], () => [new Float64Array(0), new Uint8Array(0), -1]],
  },
  // Found by our fuzzer: a range variant's f32 parameter assumed to be a small integer crashed the compiler.
  { name: 'an f32 parameter in a range variant', fn: (x: number, y: number) => x + y, signature: '(f32, f64) => f64', argSets: [() => [3, 1], () => [1000, 0.5], () => [0.5, 2], () => [-7, 16777216]] },
  // Found by our fuzzer: `a[i]++` was typed as the new element (never 0 here), so `%` by it trapped.
  {
    name: 'a postfix element update as a divisor',
    fn: (a: Uint8Array, x: number) => {
      let r = 0
      for (let i = 0; i < a.length; i++) {
        let y = 255
        y %= a[i]++
        r += y + (x % a[i]--)
      }
      return r
    },
    signature: '(u8[], i32) => f64',
    argSets: [() => [Uint8Array.of(0, 1, 255, 7), 9], () => [Uint8Array.of(255, 0), 0], () => [new Uint8Array(0), 1]],
  },
  // Wrapping integer updates of i32/u32 elements (a statement `h[j]++` stores with i32.add): overflow, out of bounds, side effects.
  {
    name: 'element ++ and += on i32 and u32 arrays wrap as the store does',
    fn: (h: Int32Array, u: Uint32Array, idx: Uint8Array, k: number) => {
      for (let i = 0; i < idx.length; i++) {
        h[idx[i]]++
        u[idx[i]] += k
        h[idx[i] + 1] -= (u[0] = k)
        u[i]--
      }
      h[7]++
      u[h.length] += 5
    },
    signature: '(i32[], u32[], u8[], i32) => void',
    argSets: [
      () => [Int32Array.of(2147483647, -2147483648, 0, 5), Uint32Array.of(4294967295, 0, 7, 1), Uint8Array.of(0, 1, 3, 9, 0), 1],
      () => [new Int32Array(4), new Uint32Array(2), Uint8Array.of(1, 1, 2), -2147483648],
      () => [new Int32Array(0), new Uint32Array(0), new Uint8Array(0), 3],
    ],
  },
  // Constant-array elements at known indices are immediates: -0, NaN and huge values kept exactly.
  {
    name: 'constant array elements at known indices',
    fn: (a: Float64Array) => {
      const k = 2
      let s = 0
      for (let i = 0; i < a.length; i++) a[i] = W[0] * a[i] + W[1] + W[k] + W[3] + INTS[1] * i + W[9]
      s = 1 / W[1]
      return s + INTS[0] + INTS[-1]
    },
    deps: { W: [0.299, -0, 1e308, NaN], INTS: [3, -7] },
    signature: '(f64[]) => f64',
    argSets: [() => [Float64Array.of(1, 2, 3)], () => [new Float64Array(0)]],
  },
  // A counter stepped by a parameter (`i += s`) is an integer in a range variant (s may be 0 there).
  {
    name: 'loops stepped by a parameter',
    fn: (a: Float64Array, s: number) => {
      let t = 0
      for (let i = 0; i < a.length; i += s) t += a[i] * i
      for (let j = a.length - 1; j >= 0; j -= s) t -= a[j]
      for (let k = 1; k <= a.length; k = k + s) t += a[k - 1] + k
      return t
    },
    signature: '(f64[], i32) => f64',
    argSets: [() => [Float64Array.of(1, 2, 3, 4, 5, 6, 7), 1], () => [Float64Array.of(1, 2, 3, 4, 5, 6, 7), 3], () => [Float64Array.of(1, 2), 1000], () => [new Float64Array(0), 2]],
  },
  // Found by our fuzzer: NaN computed from undefined kept undefined's bits (x86 carries NaN payloads),
  // reached an f64 array, and read back as undefined.
  {
    name: 'a NaN computed from undefined is a NaN, in memory too',
    fn: (a: Float64Array, b: Float64Array, i: number, k: number) => {
      b[0] = a[i] * 2
      b[1] = -a[i]
      b[2] = Math.abs(a[i])
      b[3] = +a[i]
      b[4] = Math.min(a[i])
      const x = Math.sign(a[i])
      return (b[k] ?? 1000) + (b[k + 1] === undefined ? 1 : 2) + (x ?? 5)
    },
    signature: '(f64[], f64[], i32, i32) => f64',
    argSets: [() => [Float64Array.of(1), new Float64Array(5), 99, 0], () => [Float64Array.of(1), new Float64Array(5), 99, 3], () => [Float64Array.of(1), new Float64Array(5), 0, 1]],
  },
  // 3. `x >>> s` with a count that is not constant: the lower bound is 0, not x's.
  { name: '>>> by a variable count, negated', fn: (s: number) => -(1 >>> s), signature: '(i32) => f64', argSets: [() => [1], () => [0], () => [33]] },
  {
    name: '>>> by a variable count, a large value',
    fn: (a: number, s: number) => {
      const x = 1073741824 + (a & 1)
      return (x >>> s) - 2147483647 - 6
    },
    signature: '(i32, i32) => f64',
    argSets: [() => [0, 31], () => [1, 30], () => [0, 0]],
  },
  // 4. An assignment used as a value gave ToInt32 of the value when the local is only read as a bitwise operand.
  {
    name: 'assignment as a value, local read only by |',
    fn: (a: number) => {
      let x = 0
      const y = (x = a * 0.5)
      return y + (x | 0)
    },
    signature: '(f64) => f64',
    argSets: [() => [3], () => [-7], () => [5e9]],
  },
  {
    name: '>>>= as a value',
    fn: (a: number) => {
      let x = a
      return (x >>>= 0)
    },
    signature: '(i32) => f64',
    argSets: [() => [-1], () => [5], () => [-2147483648]],
  },
  {
    name: 'assignment as an index, local never read',
    fn: (a: Float64Array, x: number) => {
      // @ts-expect-error never read, on purpose
      let s = 0
      a[(s = x * 0.5)] = 7
    },
    signature: '(f64[], f64) => void',
    argSets: [() => [new Float64Array(4), 3], () => [new Float64Array(4), 4], () => [new Float64Array(4), -1]],
  },
  {
    name: 'assignment of a subnormal in a helper, compared',
    fn: (a: number) => (tiny(a) ? 1 : 2),
    deps: { tiny },
    signature: '(f64) => f64',
    argSets: [() => [1], () => [0], () => [-1]],
  },
  // Valid JS that was rejected: logical assignment.
  {
    name: '||= and &&= on locals and elements',
    fn: (a: Float64Array, x: number) => {
      let y = x
      y ||= 7
      let z = x
      z &&= z * 2
      a[0] ||= y
      a[1] &&= z
      return (y ||= 1) + (z &&= 3) + a[0] + a[1]
    },
    signature: '(f64[], f64) => f64',
    argSets: [() => [Float64Array.of(0, 5), 0], () => [Float64Array.of(2, 0), 3], () => [Float64Array.of(NaN, -0), NaN], () => [new Float64Array(0), -0]],
  },
  // Valid JS that was rejected: a labelled block left with `break label`; inside it, an unlabelled
  // `break` or `continue` still belongs to the enclosing loop.
  {
    name: 'labelled block with break label',
    fn: (a: Float64Array, limit: number) => {
      let s = 0
      for (let i = 0; i < a.length; i++) {
        check: {
          if (a[i] < 0) break check
          if (a[i] > limit) break
          if (a[i] === 0) continue
          s += a[i]
        }
        s += 0.5
      }
      found: {
        for (let j = 0; j < a.length; j++) if (a[j] === limit) break found
        s = -s
      }
      return s
    },
    signature: '(f64[], f64) => f64',
    argSets: [() => [Float64Array.of(1, -2, 0, 3, 9, 4), 5], () => [Float64Array.of(1, 5, 2), 5], () => [new Float64Array(0), 1], () => [Float64Array.of(NaN, 2), 2]],
  },
  // 5. An empty constant array crashed the compiler.
  { name: 'indexing an empty constant array', fn: (i: number) => E[i] + 1, deps: { E }, signature: '(i32) => f64', argSets: [() => [0], () => [-1], () => [3]] },
  // 6. `v = v + K` bounded by the loop, with v starting near the top of the int32 range, crashed the compiler.
  {
    name: 'v = v + 1 in a loop bounded by the length',
    fn: (a: Float64Array, n: number) => {
      let s = 0
      for (let i = n; i < a.length; i = i + 1) s += a[i]
      return s
    },
    signature: '(f64[], i32) => f64',
    argSets: [() => [Float64Array.of(1, 2, 3, 4), 1], () => [Float64Array.of(1, 2), 2147483647], () => [Float64Array.of(5, 6), -3]],
  },
  {
    name: 'v = v - 2 in a loop bounded below',
    fn: (a: Float64Array, n: number) => {
      let s = 0
      for (let i = n; i >= 0; i = i - 2) s += a[i]
      return s
    },
    signature: '(f64[], i32) => f64',
    argSets: [() => [Float64Array.of(1, 2, 3, 4), 3], () => [Float64Array.of(1, 2), -2147483648], () => [Float64Array.of(5, 6), 1]],
  },
]

describe('defects found by differential fuzzing stay fixed, in every tier', () => {
  for (const f of fixtures) test(f.name, () => checkEveryTier(f))
})

describe('the property "undefined" of a typed array, as JS has it', () => {
  const fn = (a: Float64Array, b: Int32Array, i: number) => {
    const before = a[b[i]]
    a[b[i]] = i * 2
    return before
  }
  test('is written on the caller\'s array and read on the next call; an odd value there makes the call run as JS', async () => {
    const k = kernel(fn, { signatures: ['(f64[], i32[], i32) => f64'] })
    await k.ready()
    expect(k.tier('(f64[], i32[], i32)')).toBe('compiled')
    for (const zeroCopy of [false, true]) {
      const plainA = new Float64Array(3)
      const mine = zeroCopy ? toKernelMemory([new Float64Array(3)]) : { args: [new Float64Array(3)], release: () => {} }
      const a = mine.args[0] as Float64Array & { undefined?: unknown }
      try {
        for (const i of [5, 6, 1, 7]) {
          const expected = fn(plainA, Int32Array.of(0, 1), i)
          expect(k(a, Int32Array.of(0, 1), i)).toBe(expected)
          expect(a.undefined).toBe((plainA as unknown as { undefined: unknown }).undefined)
        }
        expect(a.undefined).toBe(14)
      } finally {
        mine.release()
      }
    }
    // A property that holds something else, or a string: the call runs as JS, with JS's result.
    const odd = Object.assign(new Float64Array(2), { undefined: 'text' })
    expect(k(odd, new Int32Array(0), 3)).toBe('text')
    expect((odd as unknown as { undefined: unknown }).undefined).toBe(6)
  })
})
