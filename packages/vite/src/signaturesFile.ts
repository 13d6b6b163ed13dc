// `kiln.signatures.json`: signatures per kernel id compiled ahead of time in addition to the
// ones declared in code. Committed with the app; the dev server records into it.

import { readFileSync, writeFileSync } from 'node:fs'

export interface SignaturesFile {
  version: 1
  kernels: Record<string, string[]>
}

/** Reads the file; a missing file is empty, a malformed one is an error naming the file. */
export function readSignaturesFile(path: string): SignaturesFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { version: 1, kernels: {} }
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`)
  }
  const d = data as Partial<SignaturesFile>
  if (d.version !== 1 || typeof d.kernels !== 'object' || d.kernels === null) {
    throw new Error(`${path}: expected { "version": 1, "kernels": { "<module>#<binding>": ["(f64[]) => void"] } }`)
  }
  for (const [id, sigs] of Object.entries(d.kernels)) {
    if (!Array.isArray(sigs) || !sigs.every((s) => typeof s === 'string')) throw new Error(`${path}: kernels["${id}"] must be an array of signature strings`)
  }
  return d as SignaturesFile
}

/**
 * Adds a signature the dev server saw a page call; the file as written when it was new, else
 * null. The file keeps its other entries and stays sorted by kernel id, so it diffs well in review.
 */
export function recordSignature(path: string, id: string, signature: string): SignaturesFile | null {
  const file = readSignaturesFile(path)
  const list = file.kernels[id] ?? []
  if (list.includes(signature)) return null
  file.kernels[id] = [...list, signature]
  const kernels = Object.fromEntries(Object.entries(file.kernels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  writeFileSync(path, `${JSON.stringify({ version: 1, kernels }, null, 2)}\n`)
  return { version: 1, kernels }
}
