// A start in a fresh process, for the warm-start test of store.test.ts: one kernel whose range
// variant never finishes compiling (the script exits first). With `fill`, it waits for the
// general module (stored), calls once (starting the variant) and exits at once. Otherwise it
// calls once and prints the tier of that call and whether the key module (acorn) was loaded.
import { createRequire } from 'node:module'
import { kernel } from 'kiln'

const scale = kernel(function scale(a, k) { for (let i = 0; i < a.length; i++) a[i] = a[i] * k + i }, { cache: true, name: 'probe.js#scale', signatures: ['(f64[], i32) => void'] })
const a = new Float64Array(64).fill(1.5)
if (process.argv[2] === 'fill') {
  await scale.ready()
  scale(a, 3)
  process.exit(0)
}
scale(a, 3)
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /compiler[\\/]dist[\\/]key\.js$/.test(p))
console.log(JSON.stringify({ tier: scale.tier('(f64[], i32) => void'), keyModule: loaded.length > 0 }))
process.exit(0)
