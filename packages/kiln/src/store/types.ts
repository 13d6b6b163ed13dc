// What the runtime needs from a persistent store (the Node file store, IndexedDB).

import type { KeyParts } from '@kiln/compiler'
import type { StoredEntry } from './entry.js'

export interface StoreLookup {
  entry: StoredEntry | null
  /** Bytes read, on a hit. */
  bytes?: number
  /** Set when an entry was there but did not validate (it was warned about). */
  corrupt?: string
}

export interface KernelStore {
  readonly name: 'file' | 'indexeddb'
  /** A synchronous lookup, where the store allows one (Node). */
  getSync?(key: string): StoreLookup
  get(key: string): Promise<StoreLookup>
  /** Whether an entry file exists for the key (not whether it is valid). */
  hasSync?(key: string): boolean
  /** Stores an entry; resolves to the bytes written (0 when the store is not writable). */
  put(entry: StoredEntry): Promise<number>
  putSync?(entry: StoredEntry): number
  /** Memo of raw input hash → key (see FileStore.aliasGet), where the store keeps one. */
  aliasGet?(raw: string): string | null
  aliasPut?(raw: string, key: string): void
  /** The key parts of the previous entry for this kernel id and slot, for explaining a miss. */
  previous(id: string, parts: KeyParts): { parts: KeyParts | null; otherSignatures: boolean } | Promise<{ parts: KeyParts | null; otherSignatures: boolean }>
}
