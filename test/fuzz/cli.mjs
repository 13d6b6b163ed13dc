// The differential fuzzer's command line:
//   node test/fuzz/cli.mjs --seed S --count N [--start I] [--workers W] [--reduce K] [--json FILE]
// Generates programs (seed S, indexes I…I+N-1), runs each in a worker against plain JS, prints
// a report (programs, calls, time, outcomes, construct coverage), reduces up to K failing
// programs (default 3) to a few lines, and exits 1 when any program failed.

import { availableParallelism } from 'node:os'
import { writeFileSync } from 'node:fs'
import { generate, ARITH_OPS, COMPARE_OPS, MATH_1, MATH_2, MATH_N } from './generate.mjs'
import { describeProgram } from './run.mjs'
import { Pool } from './pool.mjs'
import { reduce } from './reduce.mjs'

const argv = process.argv.slice(2).filter((a) => a !== '--')
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`)
  return v
}
const known = new Set(['seed', 'count', 'start', 'workers', 'reduce', 'json', 'timeout'])
for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) throw new Error(`unknown option ${a} (options: ${[...known].map((k) => `--${k}`).join(' ')})`)

const seed = Number(opt('seed', '1'))
const count = Number(opt('count', '200'))
const start = Number(opt('start', '0'))
const workers = Number(opt('workers', String(Math.max(1, Math.min(4, availableParallelism())))))
const reduceCount = Number(opt('reduce', '3'))
const jsonFile = opt('json', null)
const pool = new Pool(workers, Number(opt('timeout', '60000')))

/** Constructs every campaign of a few hundred programs should reach. */
export const REQUIRED = [
  ...ARITH_OPS.map((o) => `op ${o}`), ...COMPARE_OPS.map((o) => `compare ${o}`),
  ...[...MATH_1, ...MATH_2, ...MATH_N].map((f) => `Math.${f}`),
  ...['f64', 'f32', 'i32', 'u32', 'i16', 'u16', 'i8', 'u8', 'u8c'].map((e) => `array ${e}`),
  ...['=', '+=', '-=', '*=', '/=', '%=', '**=', '|=', '&=', '^=', '<<=', '>>=', '>>>=', '||=', '&&=', '??=', '++', '--'].map((o) => `assign ${o}`),
  ...['loop for-up', 'loop for-down', 'loop for-step', 'loop while', 'loop do', 'if', 'else', 'break', 'continue', 'labelled break', 'labelled continue', 'labelled block', 'return inside', 'let', 'const'],
  ...['result num', 'result bool', 'result void', 'result numOrUndef', 'result boolOrUndef', 'falls off the end'],
  ...['signature declared', 'signature inferred', 'param f64', 'param i32', 'param u32', 'param f32', 'param bool'],
  ...['helper call', 'helper call, missing argument', 'void helper call', 'constant number', 'constant bool', 'constant array', 'read constant array', 'aliased arrays', 'zero-copy arrays', '??', 'void', '=== undefined'],
]

/** What must stay the same while reducing: the diagnostic code, or the internal error's text. */
function failureKind(r) {
  if (r.status === 'internal') return /internal: [^\n]*/.exec(r.detail)?.[0] ?? r.detail
  if (r.status === 'rejected') return /KILN_[A-Z_]+/.exec(r.detail)?.[0] ?? r.detail
  if (r.status === 'crash') return r.detail.split('\n')[0].replace(/\d+/g, '#')
  return ''
}

const started = performance.now()
const outcomes = {}
const coverage = new Map()
const failures = []
let variants = 0
let speculative = 0
let done = 0
await Promise.all(Array.from({ length: count }, async (_, k) => {
  const prog = generate(seed, start + k)
  const result = await pool.run(prog)
  outcomes[result.status] = (outcomes[result.status] ?? 0) + 1
  for (const u of prog.used) coverage.set(u, (coverage.get(u) ?? 0) + 1)
  if (result.status === 'ok') {
    if (result.variants > 0) variants++
    if (result.speculative) speculative++
  } else failures.push({ prog, result })
  if (++done % 250 === 0) process.stderr.write(`  ${done}/${count} programs, ${failures.length} failing\n`)
}))
const seconds = (performance.now() - started) / 1000
const sets = 8

const missing = REQUIRED.filter((c) => !coverage.has(c))
console.log(`kiln fuzz: seed ${seed}, programs ${start}…${start + count - 1}, ${workers} workers`)
console.log(`  ${count} programs, ${count * sets * 3} compiled calls (${sets} argument sets × 3 rounds), ${seconds.toFixed(1)} s`)
console.log(`  outcomes: ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`)
console.log(`  ${variants} programs ran range variants, ${speculative} with speculative loads`)
console.log(`  constructs: ${coverage.size} kinds; required ${REQUIRED.length - missing.length}/${REQUIRED.length}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`)

failures.sort((a, b) => a.prog.index - b.prog.index)
const reduced = []
for (const f of failures.slice(0, reduceCount)) {
  console.log(`\n✗ program ${f.prog.index}: ${f.result.status}${f.result.round !== undefined ? ` in round ${f.result.round + 1}` : ''}\n  ${f.result.detail.replaceAll('\n', '\n  ')}`)
  const set = f.result.set ?? 0
  const same = async (p) => {
    const r = await pool.run(p)
    return r.status === f.result.status && failureKind(r) === failureKind(f.result)
  }
  const { prog, tries, reproduced } = await reduce(f.prog, set, same)
  console.log(reproduced ? `  reduced (${tries} candidates tried):` : '  (did not reproduce on its own; as generated:)')
  const text = describeProgram(prog)
  console.log(text.replace(/^/gm, '    '))
  reduced.push({ index: f.prog.index, status: f.result.status, detail: f.result.detail, program: text })
}
await pool.close()

if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({
    seed, start, count, seconds, calls: count * sets * 3, outcomes, variants, speculative,
    coverage: Object.fromEntries([...coverage].sort()), required: REQUIRED.length, missing,
    failures: failures.map((f) => ({ index: f.prog.index, status: f.result.status, detail: f.result.detail })), reduced,
  }, null, 2))
}
process.exitCode = failures.length > 0 || missing.length > 0 ? 1 : 0
