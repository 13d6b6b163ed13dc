// Real-style numeric code (bench/real/kernels.js) through `kernel(fn)` as an app calls it:
// signatures detected from the arguments, range variants as the runtime builds them. Checks
// that every compiled result is identical to plain JS, then times JS, zero-copy and copied.
//   node bench/real/run.mjs [--quick] [--only name,name]

import { alloc, free, kernel, reserveMemory } from 'kiln'
import { realCode, rng } from './kernels.js'
import { geomean, same, timeCall } from '../measure.mjs'

export { geomean }

export async function realCodeTable({ size = 200_000, quick = false, only = null } = {}) {
  const rows = []
  for (const c of realCode) {
    if (only && !only.includes(c.name)) continue
    const pristine = c.args(rng(11), size)
    const fresh = () => pristine.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
    const k = kernel(c.fn, { name: c.name })
    const probe = fresh()
    k(...probe)
    await k.ready()
    const [signature] = k.signatures()
    // A second call runs on the compiled tier (general module or this call's variant).
    for (let i = 0; i < 2; i++) {
      const got = fresh()
      const want = fresh()
      const r1 = k(...got)
      const r2 = c.fn(...want)
      if (!same(r1, r2) || !got.every((a, j) => same(a, want[j]))) throw new Error(`${c.name}: compiled result differs from plain JS`)
      await k.ready()
    }
    const tier = k.tier(signature)
    if (tier === 'js') throw new Error(`${c.name}: not compiled`)
    const jsArgs = fresh()
    const copied = fresh()
    const zero = pristine.map((a) => {
      if (!ArrayBuffer.isView(a)) return a
      const v = alloc(a.constructor, a.length)
      v.set(a)
      return v
    })
    const reset = (xs) => () => xs.forEach((x, i) => ArrayBuffer.isView(x) && x.set(pristine[i]))
    k(...zero)
    await k.ready()
    const js = timeCall(() => c.fn(...jsArgs), reset(jsArgs), { quick })
    const zeroMs = timeCall(() => k(...zero), reset(zero), { quick })
    const copiedMs = timeCall(() => k(...copied), reset(copied), { quick })
    zero.forEach((a) => ArrayBuffer.isView(a) && free(a))
    rows.push({ name: c.name, signature, variants: k.specializations(signature), js, zero: zeroMs, copied: copiedMs, speedZero: js / zeroMs, speedCopied: js / copiedMs })
  }
  return rows
}

export function printRealCode(rows, log = console.log) {
  const fmt = (ms) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(3) : `${(ms * 1e6).toFixed(0)}ns`)
  log(`${'kernel'.padEnd(15)}${'JS ms'.padStart(9)}${'0-copy'.padStart(9)}${'×'.padStart(7)}${'copied'.padStart(9)}${'×'.padStart(7)}  variant`)
  for (const r of rows) {
    log(`${r.name.padEnd(15)}${fmt(r.js).padStart(9)}${fmt(r.zero).padStart(9)}${r.speedZero.toFixed(2).padStart(7)}${fmt(r.copied).padStart(9)}${r.speedCopied.toFixed(2).padStart(7)}  ${r.variants.length ? 'yes' : 'general'}`)
  }
  log(`\n  geomean: ${geomean(rows.map((r) => r.speedZero)).toFixed(2)}× zero-copy, ${geomean(rows.map((r) => r.speedCopied)).toFixed(2)}× copied; ${rows.filter((r) => r.speedZero >= 1).length} of ${rows.length} at least as fast as JS`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  reserveMemory(256 * 1024 * 1024)
  const at = process.argv.indexOf('--only')
  const rows = await realCodeTable({ quick: process.argv.includes('--quick'), only: at > 0 ? process.argv[at + 1].split(',') : null })
  printRealCode(rows)
  process.exit(0)
}
