// Opt-in signing of store entries and aliases (Node only): with KILN_CACHE_SIGNING_KEY set, every
// entry and alias written carries an HMAC-SHA256 under that key, and one without a valid HMAC is
// a miss. Without it the local store trusts its directory: whoever can write there can forge an
// entry that checks out, which `kiln cache verify` finds by recompiling (see the README).

import type { StoredEntry } from './entry.js'

/** node:crypto, loaded when a key is in use (a start without one never pays for loading it). */
const crypto = (): typeof import('node:crypto') => (process as unknown as { getBuiltinModule(id: 'node:crypto'): typeof import('node:crypto') }).getBuiltinModule('node:crypto')

/** The signing key from the environment, or null. */
export function signingKeyFromEnv(): string | null {
  const k = process.env.KILN_CACHE_SIGNING_KEY
  return k ? k : null
}

/** The HMAC of what an entry runs: its key, its metadata and its wasm. */
export function entryHmac(secret: string, entry: Pick<StoredEntry, 'key' | 'meta' | 'wasm'>): string {
  return crypto().createHmac('sha256', secret).update(`${entry.key}\n${JSON.stringify(entry.meta)}\n`).update(entry.wasm).digest('hex')
}

/** The HMAC of an alias: raw input text → key. */
export function aliasHmac(secret: string, key: string, raw: string): string {
  return crypto().createHmac('sha256', secret).update(`${key}\n${raw}`).digest('hex')
}

export function sameHmac(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false
  return crypto().timingSafeEqual(Buffer.from(a), Buffer.from(b))
}
