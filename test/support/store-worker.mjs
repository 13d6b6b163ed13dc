// One of the concurrent writers of the multi-process store test: compiles (or loads) the
// first 20 corpus kernels with cache: true, runs each against plain JS, prints JSON.
import { parseSignature } from '@kiln/compiler/signature'
import { kernel, stats } from 'kiln'
import { corpus, rng } from '../corpus/kernels.js'

const warnings = []
console.warn = (...a) => warnings.push(a.join(' '))
console.error = (...a) => warnings.push(a.join(' '))

const coerce = (sig, args) => args.map((a, i) => {
  const p = sig.params[i]
  if (p.kind !== 'scalar') return a
  return p.type === 'i32' ? a | 0 : p.type === 'u32' ? a >>> 0 : p.type === 'f32' ? Math.fround(a) : a
})
const same = (a, b) => (ArrayBuffer.isView(a) ? a.length === b.length && a.every((v, i) => Object.is(v, b[i])) : Object.is(a, b))

const mismatches = []
const tiers = {}
await Promise.all(corpus.slice(0, 20).map(async (c) => {
  const k = kernel(c.fn, { deps: c.deps, signatures: [c.signature], cache: true, name: `corpus.js#${c.name}` })
  await k.ready()
  tiers[c.name] = k.tier(c.signature)
  const input = c.args(rng(5), 64)
  const plain = input.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a))
  let expected = c.fn(...coerce(parseSignature(c.signature), plain))
  const got = k(...input)
  await k.ready() // let the variant for these inputs finish (and be written) before exiting
  const r = parseSignature(c.signature).result
  if (r === 'u32') expected >>>= 0
  if (r === 'void') expected = undefined
  if (!same(expected, got) || !input.every((a, i) => same(plain[i], a))) mismatches.push(c.name)
}))
console.log(JSON.stringify({ pid: process.pid, tiers, mismatches, warnings, stats: stats() }))
