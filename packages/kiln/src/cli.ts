// `kiln cache ls | stats | clear | verify [--dir DIR]`: look into and check the Node file store.

import { existsSync } from 'node:fs'
import { KilnError } from './errors.js'
import { FileStore, listAliases } from './store/fileStore.js'
import { slotOf } from './store/explain.js'

const usage = `usage: kiln cache <ls | stats | clear | verify> [--dir DIR]

  ls      entries by kernel id and signature, with size and last use
  stats   entry count, total size, cap and location
  clear   remove every file Kiln wrote (refuses a directory that is not a Kiln cache)
  verify  check every entry: its recipe hashes to the key it is filed under, it recompiles to the
          same bytes, it is signed (with KILN_CACHE_SIGNING_KEY); and every alias points at an
          entry of the same inputs (exit 1 on anything that does not hold)

The directory is --dir, else $KILN_CACHE_DIR, else node_modules/.cache/kiln under the nearest package root.`

function formatBytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')
}

/** Control characters (a newline in a kernel id would fake a row; escapes would reach the terminal) as `\xNN`. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** `--dir DIR` or `--dir=DIR` and two words; anything else is an error (a typo must never fall back to the default store). */
function parse(argv: string[]): { args: string[]; dir?: string; help: boolean } | string {
  const args: string[] = []
  let dir: string | undefined
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--help' || a === '-h') help = true
    else if (a === '--dir' || a.startsWith('--dir=')) {
      if (dir !== undefined) return '--dir is given twice'
      const value = a === '--dir' ? argv[++i] : a.slice('--dir='.length)
      if (value === undefined || value === '' || value.startsWith('-')) return '--dir needs a directory'
      dir = value
    } else if (a.startsWith('-')) return `unknown option ${a} (the only option is --dir DIR)`
    else args.push(a)
  }
  return { args, dir, help }
}

export async function main(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const parsed = parse(argv)
  if (typeof parsed === 'string') {
    out(`kiln: ${parsed}\n\n${usage}`)
    return 2
  }
  const { args, dir } = parsed
  if (parsed.help || args.length === 0 || args[0] === 'help') {
    out(usage)
    return 0
  }
  if (args[0] !== 'cache' || !['ls', 'stats', 'clear', 'verify'].includes(args[1] ?? '') || args.length > 2) {
    out(usage)
    return 2
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
        return [printable(id), printable(slot), formatBytes(e.bytes), e.lastUse.toISOString().replace('T', ' ').slice(0, 19), e.key.slice(0, 12)]
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
      try {
        const removed = store.clear()
        out(`removed ${removed} entries from ${store.dir}`)
        return 0
      } catch (error) {
        if (error instanceof KilnError) out(error.message)
        else out(`kiln: cannot clear ${store.dir}: ${(error as Error).message}`)
        return 1
      }
    }
    case 'verify': {
      const { compileKernel, compilerIdentity, kernelKey } = await import('@kiln/compiler')
      const { rawKeyText } = await import('@kiln/compiler/raw')
      let failures = 0
      let checked = 0
      let skipped = 0
      const recipes = new Map<string, string>()
      const say = (label: string, key: string, text: string): void => out(`${label.padEnd(13)} ${key.slice(0, 12)}  ${text}`)
      for (const e of entries) {
        const d = store.inspect(e.path)
        if ('problem' in d && !existsSync(e.path)) {
          skipped++
          say('GONE', e.key, 'evicted or cleared during the run')
          continue
        }
        if ('problem' in d) {
          checked++
          failures++
          say('CORRUPT', e.key, d.problem)
          continue
        }
        const { entry } = d
        const what = `${printable(entry.id)} ${printable(slotOf(entry.parts))}`
        // Entries of another compiler version are another compiler's to check, and no lookup here reaches them.
        if (JSON.stringify(compilerIdentity(entry.parts.compiler.optimizeLevel)) !== JSON.stringify(entry.parts.compiler)) {
          skipped++
          say('OTHER VERSION', e.key, `${what} (compiler ${entry.parts.compiler.compiler}, format ${entry.parts.compiler.format})`)
          continue
        }
        checked++
        const recipe = entry.recipe
        const unsigned = store.signatureProblem(entry)
        if (unsigned) {
          failures++
          say('UNSIGNED', e.key, `${what}: ${unsigned}`)
          continue
        }
        const filed = kernelKey({ source: recipe.source, deps: recipe.deps, constants: recipe.constants, signature: recipe.signature, assume: recipe.assume, optimizeLevel: entry.parts.compiler.optimizeLevel }).key
        if (filed !== e.key) {
          failures++
          say('FORGED', e.key, `${what}: its recipe hashes to ${filed.slice(0, 12)}…, not the key it is filed under`)
          continue
        }
        recipes.set(e.key, rawKeyText(recipe))
        const r = compileKernel({ source: { code: recipe.source, file: entry.id }, name: entry.id, deps: recipe.deps, constants: recipe.constants, signature: recipe.signature, assume: recipe.assume, optimizeLevel: entry.parts.compiler.optimizeLevel })
        const same = r.ok && r.wasm.length === entry.wasm.length && r.wasm.every((b, i) => b === entry.wasm[i])
        if (!same) failures++
        say(same ? 'OK' : 'MISMATCH', e.key, what)
      }
      // An alias must lead to an entry built from the very inputs it names.
      let forgedAliases = 0
      for (const { path, alias } of listAliases(store)) {
        const target = alias ? recipes.get(alias.key) : undefined
        if (!alias || target === undefined || target === alias.raw) continue
        forgedAliases++
        say('FORGED ALIAS', alias.key, `${printable(path)} points at an entry of other inputs`)
      }
      out(`${checked - failures} of ${checked} entries verify${skipped ? ` (${skipped} skipped: other versions or gone)` : ''}${forgedAliases ? `; ${forgedAliases} forged alias(es)` : ''}`)
      return failures + forgedAliases > 0 ? 1 : 0
    }
  }
  return 2
}
