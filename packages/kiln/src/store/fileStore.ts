// The Node file store: one self-validating file per entry under `entries/`, written to a
// unique temp file and renamed into place (safe with many processes writing at once), a
// size cap with least-recently-used eviction (last use = mtime, touched on every hit), and a
// small per-kernel index of the last key parts, for explaining misses.

import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { KeyParts } from '@kiln/compiler'
import { KilnError } from '../errors.js'
import { checksumText } from './checksum.js'
import { decodeEntry, encodeEntry, peekEntry, type StoredEntry } from './entry.js'
import { slotOf } from './explain.js'
import { aliasHmac, entryHmac, sameHmac, signingKeyFromEnv } from './signing.js'
import type { KernelStore, StoreLookup } from './types.js'

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024
/** Temp files older than this are leftovers of a crashed writer. */
const STALE_TEMP_MS = 10 * 60 * 1000
/** A sweep lock older than this was left by a process that died sweeping. */
const STALE_LOCK_MS = 30 * 1000

/**
 * The store's marker: a cache directory tag (https://bford.info/cachedir/, which backup tools
 * skip) that says Kiln wrote it. `clear` refuses a directory without it.
 */
export const MARKER = 'CACHEDIR.TAG'
const MARKER_TEXT = 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by Kiln (compiled kernels). `npx kiln cache clear` removes this cache.\n'

/** The names Kiln writes in each directory of a store; nothing else is ever deleted. */
const OWN_NAMES: Record<'entries' | 'index' | 'alias' | 'tmp', RegExp> = {
  entries: /^[0-9a-f]{64}\.kiln$/,
  index: /^[0-9a-f]{16}\.json$/,
  alias: /^[0-9a-f]{16}$/,
  tmp: /^\d+-[0-9a-z]+-[0-9a-z]+\.tmp$/,
}

/** Kiln's own files in one directory of the store (a real directory, not a link), with their sizes and mtimes. */
function ownFiles(dir: string, names: RegExp): { name: string; path: string; bytes: number; mtimeMs: number }[] {
  try {
    if (!lstatSync(dir).isDirectory()) return []
  } catch {
    return []
  }
  const out: { name: string; path: string; bytes: number; mtimeMs: number }[] = []
  let list: string[]
  try {
    list = readdirSync(dir)
  } catch {
    return []
  }
  for (const name of list) {
    if (!names.test(name)) continue
    const path = join(dir, name)
    try {
      const st = lstatSync(path)
      if (st.isFile()) out.push({ name, path, bytes: st.size, mtimeMs: st.mtimeMs })
    } catch {
      // Removed by another process meanwhile.
    }
  }
  return out
}

export interface FileStoreOptions {
  /** Cache directory. @default $KILN_CACHE_DIR, else node_modules/.cache/kiln under the nearest package root */
  dir?: string
  /** Size cap in bytes; least recently used entries go first. @default 256 MiB */
  maxBytes?: number
  /** Where warnings go. @default console.warn */
  warn?: (message: string) => void
  /** Sign entries and aliases, and accept only signed ones. @default $KILN_CACHE_SIGNING_KEY */
  signingKey?: string | null
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
  readonly signingKey: string | null
  private readonly warn: (message: string) => void
  /** The cause of the last failed write, said once until a write succeeds again. */
  private failing: string | null = null
  private warnedFiles = new Set<string>()
  private writtenSinceSweep = 0
  private swept = false
  private marked = false

  constructor(options: FileStoreOptions = {}) {
    this.dir = options.dir ? resolve(options.dir) : defaultCacheDir()
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.warn = options.warn ?? ((m) => console.warn(m))
    this.signingKey = options.signingKey === undefined ? signingKeyFromEnv() : options.signingKey
  }

  /** Why a decoded entry is not trusted under the signing key, or null. */
  signatureProblem(entry: StoredEntry): string | null {
    if (this.signingKey === null) return null
    if (entry.hmac === undefined) return 'unsigned entry (KILN_CACHE_SIGNING_KEY is set)'
    return sameHmac(entry.hmac, entryHmac(this.signingKey, entry)) ? null : 'wrongly signed entry (KILN_CACHE_SIGNING_KEY is set)'
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
    const read = decodeEntry(bytes, key)
    const unsigned = 'entry' in read ? this.signatureProblem(read.entry) : null
    const decoded = unsigned ? { problem: unsigned } : read
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

  /**
   * Writes an entry. A failure is a warning, never an error: `KILN_CACHE_FULL` (no space or
   * quota) or `KILN_CACHE_READONLY` (anything else), said once per cause. Every later write tries
   * again, so a store whose disk fills up, or whose directory is deleted or made read-only for a
   * while, heals when the cause goes away.
   */
  putSync(entry: StoredEntry): number {
    const bytes = encodeEntry(this.signingKey === null ? entry : { ...entry, hmac: entryHmac(this.signingKey, entry) })
    try {
      if (!this.marked) this.mark()
      this.writeAtomic(this.entryPath(entry.key), bytes)
      this.updateIndex(entry)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
      const cause = `${full ? 'KILN_CACHE_FULL' : 'KILN_CACHE_READONLY'} ${code}`
      if (this.failing !== cause) {
        this.failing = cause
        this.warn(full
          ? `[kiln] KILN_CACHE_FULL: no space to write the kernel cache at ${this.dir} (${(error as Error).message}); this kernel stays in memory, and later writes try again`
          : `[kiln] KILN_CACHE_READONLY: cannot write the kernel cache at ${this.dir} (${(error as Error).message}); this kernel stays in memory, and later writes try again`)
      }
      return 0
    }
    this.failing = null
    this.writtenSinceSweep += bytes.length
    if (!this.swept || this.writtenSinceSweep > this.maxBytes / 32) this.sweep()
    return bytes.length
  }

  async put(entry: StoredEntry): Promise<number> {
    return this.putSync(entry)
  }

  /** Writes the marker if the store has none (a new store, or one an older Kiln made). */
  private mark(): void {
    const path = join(this.dir, MARKER)
    if (!existsSync(path)) {
      mkdirSync(this.dir, { recursive: true })
      writeFileSync(path, MARKER_TEXT)
    }
    this.marked = true
  }

  /** Whether `dir` is a store: Kiln's marker, or (made before markers) nothing but Kiln's four directories. */
  isStore(): boolean {
    try {
      const marker = join(this.dir, MARKER)
      if (lstatSync(marker).isFile()) return readFileSync(marker, 'utf8').includes('created by Kiln')
    } catch {
      // No marker: look at the layout.
    }
    try {
      const names = readdirSync(this.dir)
      return names.length > 0 && names.every((n) => n in OWN_NAMES && lstatSync(join(this.dir, n)).isDirectory())
    } catch {
      return false
    }
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
      this.mark()
      fd = openSync(tmp, 'wx')
    }
    try {
      let written = 0
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    } catch (error) {
      // A disk that fills up mid-write leaves no partial temp file behind.
      closeSync(fd)
      rmSync(tmp, { force: true })
      throw error
    }
    closeSync(fd)
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
      const alias = parseAlias(readFileSync(this.aliasPath(raw), 'utf8'))
      if (!alias || alias.raw !== raw) return null
      if (this.signingKey !== null && !sameHmac(alias.hmac, aliasHmac(this.signingKey, alias.key, raw))) return null
      return alias.key
    } catch {
      return null
    }
  }

  aliasPut(raw: string, key: string): void {
    if (this.failing !== null || this.aliasGet(raw) === key) return
    try {
      const head = this.signingKey === null ? key : `${key} ${aliasHmac(this.signingKey, key, raw)}`
      this.writeAtomic(this.aliasPath(raw), new TextEncoder().encode(`${head}\n${raw}`))
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

  /** Every entry file with its size and last use (regular files named as Kiln names them; links are not followed). */
  list(): { key: string; path: string; bytes: number; lastUse: Date }[] {
    return ownFiles(join(this.dir, 'entries'), OWN_NAMES.entries).map((f) => ({ key: f.name.slice(0, -'.kiln'.length), path: f.path, bytes: f.bytes, lastUse: new Date(f.mtimeMs) }))
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
   * stale temp files. Runs on the first write of a process and after every cap/32 bytes
   * written, not on every write.
   */
  sweep(): { removed: number; bytes: number } {
    this.swept = true
    this.writtenSinceSweep = 0
    // One sweeper at a time: processes sweeping the same LRU order at once would each delete
    // down to the target, together far below it.
    const lock = join(this.dir, 'sweep.lock')
    if (!this.takeLock(lock)) return { removed: 0, bytes: this.list().reduce((n, e) => n + e.bytes, 0) }
    try {
      return this.sweepLocked()
    } finally {
      try {
        unlinkSync(lock)
      } catch {
        // Taken over as stale by another process.
      }
    }
  }

  private takeLock(lock: string): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        closeSync(openSync(lock, 'wx'))
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false
        try {
          if (Date.now() - lstatSync(lock).mtimeMs < STALE_LOCK_MS) return false
          unlinkSync(lock)
        } catch {
          // Released meanwhile: try again.
        }
      }
    }
    return false
  }

  private sweepLocked(): { removed: number; bytes: number } {
    const entries = this.list()
    // The cap covers the whole store: entries, the per-kernel index and the aliases.
    const side = [...ownFiles(join(this.dir, 'index'), OWN_NAMES.index), ...ownFiles(join(this.dir, 'alias'), OWN_NAMES.alias)]
    let total = entries.reduce((n, e) => n + e.bytes, 0) + side.reduce((n, f) => n + f.bytes, 0)
    let removed = 0
    if (total > this.maxBytes) {
      entries.sort((a, b) => a.lastUse.getTime() - b.lastUse.getTime())
      // An evicted entry takes its share of the index and aliases with it (removed below).
      const share = entries.length > 0 ? side.reduce((n, f) => n + f.bytes, 0) / entries.length : 0
      for (const e of entries) {
        if (total <= (this.maxBytes * 3) / 4) break
        try {
          unlinkSync(e.path)
          removed++
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') continue
          // Already gone (`clear`): it no longer counts either.
        }
        total -= e.bytes + share
      }
    }
    if (removed > 0) {
      // Aliases of evicted entries would only send lookups to missing files, and an index
      // whose entries are all gone explains nothing.
      for (const f of ownFiles(join(this.dir, 'alias'), OWN_NAMES.alias)) {
        try {
          const key = readFileSync(f.path, 'utf8').slice(0, 64)
          if (!existsSync(this.entryPath(key))) unlinkSync(f.path)
        } catch {
          // Removed meanwhile.
        }
      }
      for (const f of ownFiles(join(this.dir, 'index'), OWN_NAMES.index)) {
        try {
          const index = JSON.parse(readFileSync(f.path, 'utf8')) as IndexFile
          if (!Object.values(index.slots ?? {}).some((s) => existsSync(this.entryPath(s.key)))) unlinkSync(f.path)
        } catch {
          // Removed meanwhile, or unreadable: the next write of its kernel replaces it.
        }
      }
    }
    for (const f of ownFiles(join(this.dir, 'tmp'), OWN_NAMES.tmp)) {
      try {
        if (Date.now() - f.mtimeMs > STALE_TEMP_MS) unlinkSync(f.path)
      } catch {
        // Renamed or removed meanwhile.
      }
    }
    return { removed, bytes: Math.round(total) }
  }

  /**
   * Removes every file Kiln wrote (entries, index, aliases, temp files, the marker) and the
   * directories they leave empty. Anything else stays, links are not followed, and a directory
   * that is not a store is refused with `KILN_CACHE_NOT_STORE`. Returns the entries removed.
   */
  clear(): number {
    let st
    try {
      st = lstatSync(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw error
    }
    if (!st.isDirectory()) {
      throw KilnError.of('KILN_CACHE_NOT_STORE', `refusing to clear ${this.dir}: it is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}, so not a Kiln cache`, ['point --dir or KILN_CACHE_DIR at the cache directory itself'])
    }
    if (!this.isStore()) {
      throw KilnError.of('KILN_CACHE_NOT_STORE', `refusing to clear ${this.dir}: it is not a Kiln cache (it has no ${MARKER} written by Kiln, and holds other files)`, ['check --dir and KILN_CACHE_DIR; delete the directory yourself if you mean to'])
    }
    let removed = 0
    for (const [sub, names] of Object.entries(OWN_NAMES)) {
      const dir = join(this.dir, sub)
      for (const f of ownFiles(dir, names)) {
        unlinkSync(f.path)
        if (sub === 'entries') removed++
      }
      removeIfEmpty(dir)
    }
    rmSync(join(this.dir, 'sweep.lock'), { force: true })
    rmSync(join(this.dir, MARKER), { force: true })
    removeIfEmpty(this.dir)
    this.marked = false
    return removed
  }
}

/** An alias file: `<key>[ <hmac>]\n<raw input>`. */
export function parseAlias(text: string): { key: string; hmac?: string; raw: string } | null {
  const newline = text.indexOf('\n')
  if (newline < 0) return null
  const [key, hmac] = text.slice(0, newline).split(' ')
  return /^[0-9a-f]{64}$/.test(key) ? { key, hmac, raw: text.slice(newline + 1) } : null
}

/** Every alias file (path and parsed content; null content when it does not parse). */
export function listAliases(store: FileStore): { path: string; alias: ReturnType<typeof parseAlias> }[] {
  return ownFiles(join(store.dir, 'alias'), OWN_NAMES.alias).map((f) => {
    try {
      return { path: f.path, alias: parseAlias(readFileSync(f.path, 'utf8')) }
    } catch {
      return { path: f.path, alias: null }
    }
  })
}

function removeIfEmpty(dir: string): void {
  try {
    if (lstatSync(dir).isDirectory()) rmdirSync(dir)
  } catch {
    // Missing, a link, or holding files Kiln did not write: it stays.
  }
}

