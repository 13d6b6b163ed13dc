// Runs one generated program: compiles it with Kiln, then calls every argument set in three
// rounds (the general module; the range variants those calls started; their safe twins, after
// any speculative load trapped), each call checked against the same function run as plain JS
// on its own copy of the arguments: the result and every array, bit for bit (NaN aside).

import { parseSignature } from '@kiln/compiler/signature'
import { alloc, free, kernel, KilnError } from 'kiln'
import { CTOR } from './generate.mjs'

/** The plain functions of a program: the kernel and its helpers share the constants' scope. */
export function instantiate(prog) {
  const names = Object.keys(prog.constants)
  const body = [
    ...names.map((n) => `const ${n} = C.${n};`),
    ...prog.helpers.map((h) => h.source),
    `return { kernel: ${prog.kernel}, helpers: { ${prog.helpers.map((h) => h.name).join(', ')} } };`,
  ].join('\n')
  return new Function('C', body)(prog.constants)
}

/** Arrays of a set: fresh typed arrays (aliases share one), in kernel memory when zero-copy. */
function materialize(set, zeroCopy) {
  const owned = []
  const args = []
  set.args.forEach((a) => {
    if ('alias' in a) args.push(args[a.alias])
    else if ('element' in a) {
      const Ctor = globalThis[CTOR[a.element]]
      let arr
      if (zeroCopy) {
        arr = alloc(Ctor, a.values.length)
        owned.push(arr)
      } else arr = new Ctor(a.values.length)
      arr.set(a.values)
      args.push(arr)
    } else args.push(a.value)
  })
  return { args, release: () => owned.forEach((x) => free(x)) }
}

function runPlain(fn, sig, args) {
  const coerced = args.map((a, i) => {
    const p = sig?.params[i]
    if (p?.kind !== 'scalar') return a
    return p.type === 'i32' ? a | 0 : p.type === 'u32' ? a >>> 0 : p.type === 'f32' ? Math.fround(a) : a
  })
  const r = fn(...coerced)
  switch (sig?.result) {
    case 'i32': return r | 0
    case 'u32': return r >>> 0
    case 'f32': return Math.fround(r)
    case 'void': return undefined
    default: return r
  }
}

function show(v) {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v).slice(0, 8).map(show).join(', ')}${v.length > 8 ? ', …' : ''}]`
  return Object.is(v, -0) ? '-0' : String(v)
}

function differ(expected, actual, what) {
  if (ArrayBuffer.isView(expected)) {
    if (!ArrayBuffer.isView(actual) || expected.length !== actual.length) return `${what}: shape differs`
    for (let i = 0; i < expected.length; i++) if (!Object.is(expected[i], actual[i])) return `${what}[${i}]: JS ${show(expected[i])}, Kiln ${show(actual[i])}`
    return null
  }
  return Object.is(expected, actual) ? null : `${what}: JS ${show(expected)}, Kiln ${show(actual)}`
}

/**
 * `{ status, detail, round, set, tiers }`: status is 'ok', 'mismatch' (a different result or
 * array), 'internal' (KILN_INTERNAL, at compile or reported by a variant), 'rejected' (a
 * diagnostic: the generator left the language), 'crash' (an exception from a compiled call),
 * or 'js-error' (the plain function threw: a generator bug). `sets` limits the argument sets.
 */
export async function runProgram(prog, sets = prog.argSets.map((_, i) => i)) {
  const sig = prog.signature ? parseSignature(prog.signature) : null
  let made
  try {
    made = instantiate(prog)
  } catch (e) {
    return { status: 'js-error', detail: `does not parse as JS: ${e.message}` }
  }
  const internal = []
  const consoleError = console.error
  console.error = (...a) => {
    const text = a.map((x) => (x instanceof Error ? `${x.message}` : String(x))).join(' ')
    if (text.includes('KILN_INTERNAL')) internal.push(text)
  }
  try {
    const k = kernel(made.kernel, { deps: { ...made.helpers, ...prog.constants }, signatures: prog.signature ? [prog.signature] : [] })
    const classify = (e) => {
      if (e instanceof KilnError) return { status: e.code === 'KILN_INTERNAL' ? 'internal' : 'rejected', detail: e.message.split('\n').slice(0, 6).join('\n') }
      return { status: 'crash', detail: String(e?.stack ?? e).split('\n').slice(0, 4).join('\n') }
    }
    // The first set compiles an inferred kernel (its first call runs as JS).
    if (!prog.signature) {
      const first = materialize(prog.argSets[sets[0]], false)
      try { k(...first.args) } catch (e) { return classify(e) } finally { first.release() }
    }
    try { await k.ready() } catch (e) { return classify(e) }
    const tiers = k.signatures().map((s) => k.tier(s))
    if (tiers.includes('js') || tiers.length === 0) return { status: 'crash', detail: `after ready() a signature is still on the JS tier: ${k.signatures().join('; ')}` }
    for (let round = 0; round < 3; round++) {
      for (const s of sets) {
        const set = prog.argSets[s]
        const plain = materialize(set, false)
        let expected
        try {
          expected = runPlain(made.kernel, sig, plain.args)
        } catch (e) {
          return { status: 'js-error', detail: `the plain function threw: ${e.message}`, set: s }
        }
        const zeroCopy = set.zeroCopy && round !== 1
        const mine = materialize(set, zeroCopy)
        try {
          let actual
          try {
            actual = k(...mine.args)
          } catch (e) {
            return { ...classify(e), round, set: s }
          }
          if (internal.length) return { status: 'internal', detail: internal[0], round, set: s }
          const d = differ(expected, actual, 'result') ?? plain.args.map((a, i) => (ArrayBuffer.isView(a) ? differ(a, mine.args[i], `argument ${i + 1}`) : null)).find((x) => x)
          if (d) return { status: 'mismatch', detail: d, round, set: s, zeroCopy }
        } finally {
          mine.release()
        }
      }
      try { await k.ready() } catch (e) { return { ...classify(e), round } }
      if (internal.length) return { status: 'internal', detail: internal[0], round }
    }
    const specialized = k.signatures().flatMap((s) => k.specializations(s))
    return { status: 'ok', variants: specialized.length, speculative: specialized.some((v) => v.includes('trap-oob')) }
  } finally {
    console.error = consoleError
  }
}

/** A program as a file one can run or read: sources, constants, signature, the failing arguments. */
export function describeProgram(prog, sets = prog.argSets.map((_, i) => i)) {
  const consts = Object.entries(prog.constants).map(([n, v]) => `const ${n} = ${Array.isArray(v) ? `[${v.map(show).join(', ')}]` : show(v)}`)
  const argText = sets.map((s) => {
    const set = prog.argSets[s]
    const parts = set.args.map((a) => ('alias' in a ? `(same array as argument ${a.alias + 1})` : 'element' in a ? `${CTOR[a.element]}.of(${Array.from(new globalThis[CTOR[a.element]](a.values)).map(show).join(', ')})` : show(a.value)))
    return `//   (${parts.join(', ')})${set.zeroCopy ? ' zero-copy' : ''}`
  })
  const lines = (text) => text.split('\n').filter((l) => l.trim() !== '').join('\n')
  return [
    `// seed ${prog.seed}, program ${prog.index}; signature: ${prog.signature ?? 'none (inferred)'}`,
    ...consts,
    ...prog.helpers.map((h) => lines(h.source)),
    lines(prog.kernel),
    '// arguments:',
    ...argText,
  ].join('\n')
}
