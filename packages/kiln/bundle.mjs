// Bundles the built Node entry (dist/node.js) into one module, so a warm start loads one file
// instead of fifteen (the cold-start benchmark measures it). The compiler stays a separate,
// lazily loaded package; node builtins stay external, and so does the IndexedDB store, which
// only browsers load.
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rollup } from 'rollup'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
const compilerDist = join(here, '..', 'compiler', 'dist')
/** Small dependency-free compiler modules the runtime imports statically are inlined. */
const inline = new Set(['diagnostics', 'signature', 'version', 'raw'])

const plugin = {
  name: 'kiln-node-bundle',
  resolveId(id) {
    const m = /^@kiln\/compiler\/(\w+)$/.exec(id)
    if (m && inline.has(m[1])) return join(compilerDist, `${m[1] === 'raw' ? 'rawKey' : m[1]}.js`)
    if (id.startsWith('node:') || id.startsWith('@kiln/compiler') || id.startsWith('@noble/')) return { id, external: true }
    if (id.endsWith('idbStore.js')) return { id: '../store/idbStore.js', external: true }
    return null
  },
}

rmSync(join(dist, 'bundle'), { recursive: true, force: true })
// The compile worker sits beside the bundle, where the pool's `new URL('./compileWorker.js', …)` finds it.
const bundle = await rollup({ input: { node: join(dist, 'node.js'), compileWorker: join(dist, 'compileWorker.js') }, plugins: [plugin] })
await bundle.write({ dir: join(dist, 'bundle'), entryFileNames: '[name].js', format: 'es', sourcemap: true })
await bundle.close()
