// The browser store: IndexedDB, for signatures compiled at run time in a page. Entries are the
// same self-validating bytes as the file store's; a bad one is a miss with a warning.

import type { KeyParts } from '@kiln/compiler'
import { decodeEntry, encodeEntry, type StoredEntry } from './entry.js'
import { slotOf } from './explain.js'
import type { KernelStore, StoreLookup } from './types.js'

const DB_NAME = 'kiln-cache'
const ENTRIES = 'entries'
const INDEX = 'index'

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

/** Opens the store, or null where IndexedDB is missing or refused (private modes, workers without it). */
export async function openIndexedDbStore(): Promise<KernelStore | null> {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB
  if (!idb) return null
  const open = idb.open(DB_NAME, 1)
  open.onupgradeneeded = () => {
    open.result.createObjectStore(ENTRIES)
    open.result.createObjectStore(INDEX)
  }
  const db = await request(open)
  return new IndexedDbStore(db)
}

export class IndexedDbStore implements KernelStore {
  readonly name = 'indexeddb'
  private warned = new Set<string>()

  constructor(private readonly db: IDBDatabase) {}

  async get(key: string): Promise<StoreLookup> {
    const bytes = await request(this.db.transaction(ENTRIES).objectStore(ENTRIES).get(key)) as Uint8Array | undefined
    if (!bytes) return { entry: null }
    const decoded = decodeEntry(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes as ArrayBuffer), key)
    if ('problem' in decoded) {
      if (!this.warned.has(key)) {
        this.warned.add(key)
        console.warn(`[kiln] KILN_CACHE_CORRUPT: ignoring IndexedDB cache entry ${key.slice(0, 12)}…: ${decoded.problem}; it will be recompiled`)
      }
      return { entry: null, corrupt: decoded.problem }
    }
    return { entry: decoded.entry, bytes: bytes.byteLength }
  }

  async put(entry: StoredEntry): Promise<number> {
    const bytes = encodeEntry(entry)
    try {
      const tx = this.db.transaction([ENTRIES, INDEX], 'readwrite')
      tx.objectStore(ENTRIES).put(bytes, entry.key)
      const index = tx.objectStore(INDEX)
      const slots = ((await request(index.get(entry.id))) as Record<string, KeyParts> | undefined) ?? {}
      slots[slotOf(entry.parts)] = entry.parts
      index.put(slots, entry.id)
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
        tx.onabort = () => reject(tx.error)
      })
      return bytes.length
    } catch (error) {
      console.warn(`[kiln] KILN_CACHE_READONLY: cannot write to IndexedDB (${(error as Error).message}); compiled kernels stay in memory only`)
      return 0
    }
  }

  async previous(id: string, parts: KeyParts): Promise<{ parts: KeyParts | null; otherSignatures: boolean }> {
    const slots = ((await request(this.db.transaction(INDEX).objectStore(INDEX).get(id))) as Record<string, KeyParts> | undefined) ?? {}
    const slot = slotOf(parts)
    return { parts: slots[slot] ?? null, otherSignatures: Object.keys(slots).some((s) => s !== slot) }
  }
}

