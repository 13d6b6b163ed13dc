// The range arithmetic inference types expressions with (packages/compiler/src/ranges.ts):
// every value JS computes from operands in the given ranges must lie in the result's type.

import { arith, intBound } from '@kiln/compiler/ranges'
import { describe, expect, test } from 'vitest'

type Range = { kind: 'int'; lo: number; hi: number } | { kind: 'f64'; lo: number; hi: number; negZero: boolean }

/** Whether JS value `v` is a value of type `t` (an int range, or a bounded number: never NaN). */
function holds(t: ReturnType<typeof arith>, v: number): boolean {
  if (t.kind === 'int') return Number.isInteger(v) && !Object.is(v, -0) && v >= t.lo && v <= t.hi
  if (t.kind !== 'f64') return false
  if (t.lo === undefined) return true
  return !Number.isNaN(v) && v >= t.lo! && v <= t.hi! && (t.negZero !== false || !Object.is(v, -0))
}

function sample(r: Range, rand: () => number): number {
  const pick = rand()
  if (pick < 0.15) return r.lo
  if (pick < 0.3) return r.hi
  if (r.kind === 'f64' && pick < 0.35 && r.negZero && r.lo <= 0 && r.hi >= 0) return -0
  if (r.kind === 'int' && pick < 0.4 && r.lo <= 0 && r.hi >= 0) return 0
  const v = r.lo + (r.hi - r.lo) * rand()
  return r.kind === 'int' ? Math.min(r.hi, Math.max(r.lo, Math.round(v))) + 0 : v // (+ 0: an int is never -0)
}

describe('range arithmetic holds every value JS computes', () => {
  test('+, -, *, /, % over seeded int and bounded operands', () => {
    let seed = 99
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296)
    const ends = [-2147483648, -65536, -3, -1, 0, 1, 2, 7, 1024, 65536, 2147483647]
    const randomRange = (): Range => {
      let a = ends[Math.floor(rand() * ends.length)]
      let b = ends[Math.floor(rand() * ends.length)]
      if (a > b) [a, b] = [b, a]
      if (rand() < 0.5) return { kind: 'int', lo: a, hi: b }
      return { kind: 'f64', lo: a - 0.5, hi: b + 0.25, negZero: rand() < 0.5 }
    }
    const failures: string[] = []
    for (let i = 0; i < 3000; i++) {
      const a = randomRange()
      const b = randomRange()
      for (const op of ['+', '-', '*', '/', '%']) {
        const t = arith(op, a, b)
        for (let k = 0; k < 20; k++) {
          const x = sample(a, rand)
          const y = sample(b, rand)
          const v = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y
          if (!holds(t, v)) failures.push(`${JSON.stringify(a)} ${op} ${JSON.stringify(b)} = ${JSON.stringify(t)}, but ${x} ${op} ${y} = ${Object.is(v, -0) ? '-0' : v}`)
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([])
  })

  test('the int bound a loop test gives its counter', () => {
    expect(intBound({ lo: 0, hi: 4.5 }, true, 1)).toBe(4) // i < 4.5: i <= 4
    expect(intBound({ lo: 0, hi: 5 }, true, 1)).toBe(4) // i < 5
    expect(intBound({ lo: 0, hi: 5 }, false, 1)).toBe(5) // i <= 5
    expect(intBound({ lo: -2.5, hi: 9 }, true, -1)).toBe(-2) // i > -2.5: i >= -2
    expect(intBound({ lo: -2, hi: 9 }, false, -1)).toBe(-2) // i >= -2
  })

  test('bounds stay finite where JS cannot give NaN, and are dropped where it can', () => {
    const nonNeg = { kind: 'int' as const, lo: 0, hi: 100 }
    expect(arith('/', nonNeg, { kind: 'int', lo: 1, hi: 4 })).toEqual({ kind: 'f64', lo: 0, hi: 100, negZero: false })
    expect(arith('/', nonNeg, { kind: 'int', lo: 0, hi: 4 })).toEqual({ kind: 'f64' }) // 0 / 0 is NaN
    expect(arith('*', { kind: 'int', lo: -3, hi: 3 }, { kind: 'int', lo: 0, hi: 2 })).toEqual({ kind: 'f64', lo: -6, hi: 6, negZero: true })
    expect(arith('+', { kind: 'int', lo: 2147483647, hi: 2147483647 }, { kind: 'int', lo: 1, hi: 1 })).toEqual({ kind: 'f64', lo: 2147483648, hi: 2147483648, negZero: false })
  })
})
