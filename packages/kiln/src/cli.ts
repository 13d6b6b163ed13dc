// `kiln cache ls | stats | clear | verify [--dir DIR]`: look into and check the Node file store.

import { FileStore } from './store/fileStore.js'
import { slotOf } from './store/explain.js'

const usage = `usage: kiln cache <ls | stats | clear | verify> [--dir DIR]

  ls      entries by kernel id and signature, with size and last use
  stats   entry count, total size, cap and location
  clear   remove every entry
  verify  recompile every entry and compare bytes (exit 1 on any mismatch or corrupt entry)

The directory is --dir, else $KILN_CACHE_DIR, else node_modules/.cache/kiln under the nearest package root.`

function formatBytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')
}

export async function main(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const dirAt = argv.indexOf('--dir')
  const dir = dirAt >= 0 ? argv[dirAt + 1] : undefined
  const args = dirAt >= 0 ? argv.filter((_, i) => i !== dirAt && i !== dirAt + 1) : argv
  if (args[0] !== 'cache' || !['ls', 'stats', 'clear', 'verify'].includes(args[1] ?? '')) {
    out(usage)
    return args.length === 0 || args[0] === '--help' || args[0] === 'help' ? 0 : 2
  }
  const store = new FileStore({ dir })
  const entries = store.list()
  switch (args[1]) {
    case 'ls': {
      if (entries.length === 0) {
        out(`no entries in ${store.dir}`)
        return 0
      }
      const rows = entries.map((e) => {
        const d = store.inspect(e.path)
        const id = 'entry' in d ? d.entry.id : '(unreadable)'
        const slot = 'entry' in d ? slotOf(d.entry.parts) : d.problem
        return [id, slot, formatBytes(e.bytes), e.lastUse.toISOString().replace('T', ' ').slice(0, 19), e.key.slice(0, 12)]
      }).sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1))
      out(table([['kernel', 'signature', 'size', 'last use', 'key'], ...rows]))
      return 0
    }
    case 'stats': {
      const total = entries.reduce((n, e) => n + e.bytes, 0)
      const bad = entries.filter((e) => 'problem' in store.inspect(e.path)).length
      const kernels = new Set(entries.map((e) => {
        const d = store.inspect(e.path)
        return 'entry' in d ? d.entry.id : ''
      }))
      kernels.delete('')
      out(`directory  ${store.dir}`)
      out(`entries    ${entries.length} (${kernels.size} kernels${bad ? `, ${bad} unreadable` : ''})`)
      out(`size       ${formatBytes(total)} of ${formatBytes(store.maxBytes)}`)
      if (entries.length) {
        const uses = entries.map((e) => e.lastUse.getTime()).sort((a, b) => a - b)
        out(`last use   ${new Date(uses[0]).toISOString()} … ${new Date(uses[uses.length - 1]).toISOString()}`)
      }
      return 0
    }
    case 'clear': {
      store.clear()
      out(`removed ${entries.length} entries from ${store.dir}`)
      return 0
    }
    case 'verify': {
      const { compileKernel } = await import('@kiln/compiler')
      let failures = 0
      for (const e of entries) {
        const d = store.inspect(e.path)
        if ('problem' in d) {
          failures++
          out(`CORRUPT   ${e.key.slice(0, 12)}  ${d.problem}`)
          continue
        }
        const { entry } = d
        const r = compileKernel({ source: { code: entry.recipe.source, file: entry.id }, name: entry.id, deps: entry.recipe.deps, constants: entry.recipe.constants, signature: entry.recipe.signature, assume: entry.recipe.assume, optimizeLevel: entry.parts.compiler.optimizeLevel })
        const same = r.ok && r.wasm.length === entry.wasm.length && r.wasm.every((b, i) => b === entry.wasm[i])
        if (!same) failures++
        out(`${same ? 'OK      ' : 'MISMATCH'}  ${e.key.slice(0, 12)}  ${entry.id} ${slotOf(entry.parts)}`)
      }
      out(`${entries.length - failures} of ${entries.length} entries verify`)
      return failures > 0 ? 1 : 0
    }
  }
  return 2
}
