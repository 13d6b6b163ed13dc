// One row of the cold-start table, in a fresh process: time from the script's first line to
// the first result computed by compiled code. Modes: nocache | store | floor.
const t0 = performance.now()
const [mode, name, wasmPath] = process.argv.slice(2)
const { corpus, rng } = await import('../test/corpus/kernels.js')
const c = corpus.find((x) => x.name === name)
const args = c.args(rng(3), 4096)

if (mode === 'floor') {
  // The floor: instantiate the same bytes read from disk, copy the arguments in, call.
  const { readFileSync } = await import('node:fs')
  const bytes = readFileSync(wasmPath)
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 32767 })
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory }, Math, kiln: { mod: (a, b) => a % b } })
  let at = 64
  const wasmArgs = []
  for (const a of args) {
    if (ArrayBuffer.isView(a)) {
      new Uint8Array(memory.buffer, at, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
      wasmArgs.push(at, a.length)
      at += (a.byteLength + 7) & ~7
    } else wasmArgs.push(a)
  }
  instance.exports.kernel(...wasmArgs)
  console.log(JSON.stringify({ ms: performance.now() - t0, tier: 'floor' }))
} else {
  const kiln = await import('kiln')
  if (mode === 'nocache') kiln.configureCache({ enabled: false })
  const k = kiln.kernel(c.fn, { deps: c.deps, signatures: [c.signature], cache: mode === 'store', name: `corpus.js#${c.name}` })
  // Without a cache the first compiled result needs the compile; a warm store serves the first call.
  if (mode === 'nocache') await k.ready()
  k(...args)
  const ms = performance.now() - t0
  // Checked after timing: which tier served (a warm run must not have fallen back to plain JS).
  console.log(JSON.stringify({ ms, tier: k.tier(c.signature) }))
}
