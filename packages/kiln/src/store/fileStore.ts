// The Node file store: one self-validating file per entry under `entries/`, written to a
// unique temp file and renamed into place (safe with many processes writing at once), a
// size cap with least-recently-used eviction (last use = mtime, touched on every hit), and a
// small per-kernel index of the last key parts, for explaining misses.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { KeyParts } from '@kiln/compiler'
import { checksumText } from './checksum.js'
import { decodeEntry, encodeEntry, peekEntry, type StoredEntry } from './entry.js'
import { slotOf } from './explain.js'
import type { KernelStore, StoreLookup } from './types.js'

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024
/** Temp files older than this are leftovers of a crashed writer. */
const STALE_TEMP_MS = 10 * 60 * 1000

export interface FileStoreOptions {
  /** Cache directory. @default $KILN_CACHE_DIR, else node_modules/.cache/kiln under the nearest package root */
  dir?: string
  /** Size cap in bytes; least recently used entries go first. @default 256 MiB */
  maxBytes?: number
  /** Where warnings go. @default console.warn */
  warn?: (message: string) => void
}

/** node_modules/.cache/kiln under the nearest directory with a package.json (from `from`). */
export function defaultCacheDir(from = process.cwd()): string {
  if (process.env.KILN_CACHE_DIR) return resolve(process.env.KILN_CACHE_DIR)
  let dir = resolve(from)
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'node_modules', '.cache', 'kiln')
    const parent = dirname(dir)
    if (parent === dir) return join(resolve(from), 'node_modules', '.cache', 'kiln')
    dir = parent
  }
}

interface IndexFile {
  /** slot (`signature variant`) → key parts of the last entry stored for it. */
  slots: Record<string, { key: string; parts: KeyParts }>
}

export class FileStore implements KernelStore {
  readonly name = 'file'
  readonly dir: string
  readonly maxBytes: number
  private readonly warn: (message: string) => void
  private writable = true
  private warnedFiles = new Set<string>()
  private writtenSinceSweep = 0
  private swept = false

  constructor(options: FileStoreOptions = {}) {
    this.dir = options.dir ? resolve(options.dir) : defaultCacheDir()
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.warn = options.warn ?? ((m) => console.warn(m))
  }

  entryPath(key: string): string {
    return join(this.dir, 'entries', `${key}.kiln`)
  }

  private indexPath(id: string): string {
    return join(this.dir, 'index', `${checksumText(id)}.json`)
  }

  getSync(key: string): StoreLookup {
    const path = this.entryPath(key)
    let bytes: Uint8Array
    try {
      bytes = readFileSync(path)
    } catch {
      return { entry: null }
    }
    const decoded = decodeEntry(bytes, key)
    if ('problem' in decoded) {
      // One warning per bad file; the recompiled entry replaces it.
      if (!this.warnedFiles.has(path)) {
        this.warnedFiles.add(path)
        this.warn(`[kiln] KILN_CACHE_CORRUPT: ignoring cache entry ${path}: ${decoded.problem}; it will be recompiled`)
      }
      return { entry: null, corrupt: decoded.problem }
    }
    try {
      const now = new Date()
      utimesSync(path, now, now)
    } catch {
      // Read-only cache: last use is not recorded; nothing else changes.
    }
    return { entry: decoded.entry, bytes: bytes.length }
  }

  hasSync(key: string): boolean {
    return existsSync(this.entryPath(key))
  }

  async get(key: string): Promise<StoreLookup> {
    return this.getSync(key)
  }

  putSync(entry: StoredEntry): number {
    if (!this.writable) return 0
    const bytes = encodeEntry(entry)
    try {
      this.writeAtomic(this.entryPath(entry.key), bytes)
      this.updateIndex(entry)
    } catch (error) {
      this.writable = false
      this.warn(`[kiln] KILN_CACHE_READONLY: cannot write the kernel cache at ${this.dir} (${(error as Error).message}); compiled kernels are kept in memory only for this process`)
      return 0
    }
    this.writtenSinceSweep += bytes.length
    if (!this.swept || this.writtenSinceSweep > this.maxBytes / 8) this.sweep()
    return bytes.length
  }

  async put(entry: StoredEntry): Promise<number> {
    return this.putSync(entry)
  }

  /**
   * Writes to a temp file unique to this process and write, then renames it over the target:
   * readers see the old file or the whole new one. No fsync: a file a crash leaves torn fails its
   * checksum and is a miss, so durability would only cost time (a quarter of a cold build's write time here).
   */
  private writeAtomic(path: string, bytes: Uint8Array): void {
    const tmp = join(this.dir, 'tmp', `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.tmp`)
    let fd: number
    try {
      fd = openSync(tmp, 'wx')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      // First write, or the directory was deleted under us (`kiln cache clear`): make it again.
      mkdirSync(join(this.dir, 'tmp'), { recursive: true })
      fd = openSync(tmp, 'wx')
    }
    try {
      let written = 0
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    } finally {
      closeSync(fd)
    }
    try {
      renameSync(tmp, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(tmp)) {
        mkdirSync(dirname(path), { recursive: true })
        renameSync(tmp, path)
        return
      }
      rmSync(tmp, { force: true })
      throw error
    }
  }

  private aliasPath(raw: string): string {
    return join(this.dir, 'alias', checksumText(raw))
  }

  /**
   * The key the exact raw inputs (texts of the kernel, its deps and constants, signature,
   * variant, compiler identity) were last computed to have: lets a warm process skip parsing.
   * The file holds the raw text too, compared in full, so a checksum collision is only a miss.
   */
  aliasGet(raw: string): string | null {
    try {
      const text = readFileSync(this.aliasPath(raw), 'utf8')
      const key = text.slice(0, 64)
      return /^[0-9a-f]{64}$/.test(key) && text.slice(65) === raw ? key : null
    } catch {
      return null
    }
  }

  aliasPut(raw: string, key: string): void {
    if (!this.writable || this.aliasGet(raw) === key) return
    try {
      this.writeAtomic(this.aliasPath(raw), new TextEncoder().encode(`${key}\n${raw}`))
    } catch {
      // An alias only saves a parse; losing one is harmless.
    }
  }

  private readIndex(id: string): IndexFile | null {
    try {
      const parsed = JSON.parse(readFileSync(this.indexPath(id), 'utf8')) as IndexFile
      return parsed && typeof parsed.slots === 'object' ? parsed : null
    } catch {
      return null
    }
  }

  /** Last-writer-wins per kernel id: only explanations depend on it, never correctness. */
  private updateIndex(entry: StoredEntry): void {
    const index = this.readIndex(entry.id) ?? { slots: {} }
    index.slots[slotOf(entry.parts)] = { key: entry.key, parts: entry.parts }
    this.writeAtomic(this.indexPath(entry.id), new TextEncoder().encode(JSON.stringify(index)))
  }

  previous(id: string, parts: KeyParts): { parts: KeyParts | null; otherSignatures: boolean } {
    const index = this.readIndex(id)
    if (!index) return { parts: null, otherSignatures: false }
    const slot = slotOf(parts)
    return { parts: index.slots[slot]?.parts ?? null, otherSignatures: Object.keys(index.slots).some((s) => s !== slot) }
  }

  /** Every entry file with its size and last use. */
  list(): { key: string; path: string; bytes: number; lastUse: Date }[] {
    const dir = join(this.dir, 'entries')
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return []
    }
    const out: { key: string; path: string; bytes: number; lastUse: Date }[] = []
    for (const name of names) {
      if (!name.endsWith('.kiln')) continue
      const path = join(dir, name)
      try {
        const st = statSync(path)
        out.push({ key: name.slice(0, -'.kiln'.length), path, bytes: st.size, lastUse: st.mtime })
      } catch {
        // Removed by another process meanwhile.
      }
    }
    return out
  }

  /** Reads an entry file for listing or verifying: decoded, or its problem. */
  inspect(path: string): ReturnType<typeof peekEntry> {
    try {
      return peekEntry(readFileSync(path))
    } catch (error) {
      return { problem: (error as Error).message }
    }
  }

  /**
   * Keeps the store under its cap: drops least recently used entries down to 3/4 of it and
   * stale temp files. Runs on the first write of a process and after every cap/8 bytes
   * written, not on every write.
   */
  sweep(): { removed: number; bytes: number } {
    this.swept = true
    this.writtenSinceSweep = 0
    const entries = this.list()
    let total = entries.reduce((n, e) => n + e.bytes, 0)
    let removed = 0
    if (total > this.maxBytes) {
      entries.sort((a, b) => a.lastUse.getTime() - b.lastUse.getTime())
      for (const e of entries) {
        if (total <= (this.maxBytes * 3) / 4) break
        try {
          unlinkSync(e.path)
          total -= e.bytes
          removed++
        } catch {
          // Already gone.
        }
      }
    }
    if (removed > 0) {
      // Aliases of evicted entries would only send lookups to missing files.
      try {
        for (const name of readdirSync(join(this.dir, 'alias'))) {
          const path = join(this.dir, 'alias', name)
          const key = readFileSync(path, 'utf8').slice(0, 64)
          if (!existsSync(this.entryPath(key))) rmSync(path, { force: true })
        }
      } catch {
        // No aliases.
      }
    }
    const tmpDir = join(this.dir, 'tmp')
    try {
      for (const name of readdirSync(tmpDir)) {
        const path = join(tmpDir, name)
        try {
          if (Date.now() - statSync(path).mtimeMs > STALE_TEMP_MS) unlinkSync(path)
        } catch {
          // Renamed or removed meanwhile.
        }
      }
    } catch {
      // No temp directory.
    }
    return { removed, bytes: total }
  }

  clear(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

