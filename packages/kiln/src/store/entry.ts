// One stored kernel module as bytes that validate themselves: magic, format version, lengths,
// a 64-bit checksum over the rest, a JSON header (key, key parts, metadata, the recipe to
// rebuild it) and the wasm. Anything that does not check out decodes to a problem, never to
// bytes to run.

import type { Assumptions, KernelMeta, KeyParts } from '@kiln/compiler'
import { FORMAT_VERSION } from '@kiln/compiler/version'
import { checksum64 } from './checksum.js'

const MAGIC = [0x4b, 0x49, 0x4c, 0x4e, 0x57, 0x41, 0x53, 0x4d] // "KILNWASM"
/** magic 8 | format u32 | header length u32 | wasm length u32 | checksum 16 (hex) */
const PREAMBLE = 8 + 4 + 4 + 4 + 16
const CHECKSUM_AT = 20

/** Everything needed to compile the entry again (for `kiln cache verify`). */
export interface CompileRecipe {
  source: string
  deps: Record<string, string>
  constants: Record<string, number | boolean | readonly number[]>
  signature: string
  assume?: Assumptions
}

export interface StoredEntry {
  key: string
  /** Kernel id, e.g. `src/filters.ts#brighten`. */
  id: string
  parts: KeyParts
  meta: KernelMeta
  recipe: CompileRecipe
  wasm: Uint8Array
  /** HMAC-SHA256 of the key, metadata and wasm under the store's signing key, when it has one. */
  hmac?: string
}

export function encodeEntry(entry: StoredEntry): Uint8Array {
  const { wasm, ...rest } = entry
  const header = new TextEncoder().encode(JSON.stringify(rest))
  const out = new Uint8Array(PREAMBLE + header.length + wasm.length)
  const view = new DataView(out.buffer)
  out.set(MAGIC, 0)
  view.setUint32(8, FORMAT_VERSION, true)
  view.setUint32(12, header.length, true)
  view.setUint32(16, wasm.length, true)
  out.set(header, PREAMBLE)
  out.set(wasm, PREAMBLE + header.length)
  out.set(new TextEncoder().encode(checksum64(out.subarray(PREAMBLE))), CHECKSUM_AT)
  return out
}

export type Decoded = { entry: StoredEntry } | { problem: string }

/** Decodes and checks an entry read for `expectedKey`; any flaw is a problem, described. */
export function decodeEntry(bytes: Uint8Array, expectedKey: string): Decoded {
  if (bytes.length === 0) return { problem: 'empty file' }
  if (bytes.length < PREAMBLE) return { problem: `truncated (${bytes.length} bytes)` }
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return { problem: 'not a Kiln cache entry (foreign file)' }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const format = view.getUint32(8, true)
  if (format !== FORMAT_VERSION) return { problem: `format version ${format}, this Kiln reads ${FORMAT_VERSION}` }
  const headerLength = view.getUint32(12, true)
  const wasmLength = view.getUint32(16, true)
  if (bytes.length !== PREAMBLE + headerLength + wasmLength) return { problem: `truncated or padded (${bytes.length} bytes, header says ${PREAMBLE + headerLength + wasmLength})` }
  const digest = checksum64(bytes.subarray(PREAMBLE))
  for (let i = 0; i < 16; i++) if (digest.charCodeAt(i) !== bytes[CHECKSUM_AT + i]) return { problem: 'checksum mismatch (corrupt)' }
  let header: Omit<StoredEntry, 'wasm'>
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)))
  } catch {
    return { problem: 'header does not parse' }
  }
  if (header.key !== expectedKey) return { problem: `entry is for key ${String(header.key).slice(0, 12)}…, not ${expectedKey.slice(0, 12)}… (foreign entry)` }
  return { entry: { ...header, wasm: bytes.slice(PREAMBLE + headerLength) } }
}

/** The header of an entry without checking it against a key (for listings). */
export function peekEntry(bytes: Uint8Array): Decoded {
  if (bytes.length < PREAMBLE) return { problem: 'truncated' }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(12, true)
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength))) as { key: string }
    return decodeEntry(bytes, header.key)
  } catch {
    return { problem: 'header does not parse' }
  }
}
