// Runs the store fixture project in a fresh process: for each kernel, the tier before the
// first call, its key, and its results (first call and after ready()). Prints JSON.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.argv[2]
const signature = '(u8c[], f64) => void'
const out = {}
for (const [name, file] of [['filters', 'src/filters.js'], ['other', 'src/other/filters.js']]) {
  const mod = await import(pathToFileURL(join(dir, file)).href)
  const k = mod.brighten
  const tierAtStart = k.tier(signature)
  const { key, parts } = await k.cacheKey(signature)
  const input = [0, 10, 100, 200, 250, 3]
  const first = new Uint8ClampedArray(input)
  k(first, 7)
  await k.ready()
  const after = new Uint8ClampedArray(input)
  k(after, 7)
  const plain = new Uint8ClampedArray(input)
  mod.brightenPlain(plain, 7)
  out[name] = { tierAtStart, tier: k.tier(signature), key, parts, first: [...first], after: [...after], plain: [...plain] }
}
const { stats } = await import('kiln')
out.stats = stats()
console.log(JSON.stringify(out))
