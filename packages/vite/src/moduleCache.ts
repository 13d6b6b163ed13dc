// Dependency modules and import resolutions, kept for as long as the plugin lives (a dev server,
// a watch session, Vitest) and never stale: a module is reused only while its text on disk is
// the text it was parsed from, and resolutions are dropped whenever a file appears or goes away
// (either can change what a specifier resolves to).

import { readFileSync } from 'node:fs'
import { readModule, type ModuleInfo, type Parse } from './moduleInfo.js'

/** A dependency file that exists but does not parse: where, and the parser's words. */
export class ModuleSyntaxError extends Error {
  constructor(readonly file: string, readonly code: string, readonly offset: number, message: string) {
    super(message)
  }
}

/** A file's own text and the source map from the JS Kiln read back to it (TypeScript is stripped first). */
export interface OriginalSource {
  code: string
  map: { version: number; mappings: string; sources: string[]; names: string[] }
}

export class ModuleCache {
  private modules = new Map<string, { text: string; info: Promise<ModuleInfo> }>()
  private originals = new Map<string, OriginalSource>()
  private resolutions = new Map<string, Promise<string | null>>()

  /** Reads `path` as it is on disk now; parses it again only when its text changed. */
  read(path: string, parse?: Parse): Promise<ModuleInfo> {
    const text = readFileSync(path, 'utf8')
    const known = this.modules.get(path)
    if (known && known.text === text) return known.info
    this.originals.delete(path)
    const info = toJs(path, text).then(({ code: js, map }) => {
      if (map) this.originals.set(path, { code: text, map })
      try {
        return readModule(path, js, parse)
      } catch (e) {
        throw syntaxError(path, js, e)
      }
    })
    this.modules.set(path, { text, info })
    info.catch(() => this.modules.get(path)?.info === info && this.modules.delete(path))
    return info
  }

  /** The original of a file read as transformed JS (TypeScript), for locations in errors. */
  original(path: string): OriginalSource | undefined {
    return this.originals.get(path)
  }

  /** `resolve(source, importer)` once per specifier and importing directory until a file is created or deleted. */
  resolve(source: string, importer: string, resolve: () => Promise<string | null>): Promise<string | null> {
    const at = `${source}\0${importer.slice(0, importer.lastIndexOf('/'))}`
    let resolved = this.resolutions.get(at)
    if (!resolved) {
      this.resolutions.set(at, (resolved = resolve()))
      resolved.catch(() => this.resolutions.delete(at))
    }
    return resolved
  }

  /** The bundler saw `path` change (`update`), appear (`create`) or go (`delete`). */
  fileChanged(path: string, event: 'create' | 'update' | 'delete'): void {
    this.modules.delete(path)
    if (event !== 'update') this.resolutions.clear()
  }

  /** A new build: resolutions may differ (aliases, conditions); modules stay keyed by content. */
  newBuild(): void {
    this.resolutions.clear()
  }
}

/** A dependency module as JS: TypeScript is stripped with Vite's transformer when present. */
async function toJs(path: string, code: string): Promise<{ code: string; map: OriginalSource['map'] | null }> {
  if (!/\.[cm]?tsx?$/.test(path)) return { code, map: null }
  const vite = (await import('vite').catch(() => null)) as null | { transformWithOxc?: (code: string, file: string, options?: object) => Promise<{ code: string; map?: OriginalSource['map'] | null }> }
  if (!vite?.transformWithOxc) throw new Error(`[kiln] ${path}: reading TypeScript dependencies needs Vite's transformer`)
  try {
    const r = await vite.transformWithOxc(code, path, { lang: path.endsWith('x') ? 'tsx' : 'ts', sourcemap: true })
    return { code: r.code, map: r.map ?? null }
  } catch (e) {
    throw syntaxError(path, code, e)
  }
}

/** A parser's error as a located syntax error (acorn gives `pos`; Rollup, Rolldown and Oxc `pos` or `loc`). */
function syntaxError(path: string, code: string, e: unknown): ModuleSyntaxError {
  const err = e as { message?: string; pos?: number; loc?: { line: number; column: number }; errors?: { message: string; labels?: { start: number }[] }[] }
  let offset = typeof err.pos === 'number' ? err.pos : -1
  if (offset < 0 && err.loc) offset = offsetOf(code, err.loc.line, err.loc.column)
  if (offset < 0 && err.errors?.[0]?.labels?.[0]) offset = err.errors[0].labels[0].start
  // Rolldown's message starts "Parse failed with 1 error:" and says what on the next line.
  const lines = (err.errors?.[0]?.message ?? err.message ?? String(e)).split('\n').map((l) => l.trim()).filter((l) => l && !/^Parse failed with \d+ errors?:?$/i.test(l))
  const message = (lines[0] ?? 'syntax error').replace(/\s*\(\d+:\d+\)$/, '')
  return new ModuleSyntaxError(path, code, Math.max(0, Math.min(offset, code.length)), message)
}

function offsetOf(code: string, line: number, column: number): number {
  let at = 0
  for (let l = 1; l < line; l++) {
    const next = code.indexOf('\n', at)
    if (next < 0) return -1
    at = next + 1
  }
  return at + column
}
