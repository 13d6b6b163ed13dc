// Why a lookup missed: the key parts of the new lookup against the previous entry stored for
// the same kernel id and signature, as short reasons (`helper clamp changed`).

import type { KeyParts } from '@kiln/compiler'

export function explainMiss(now: KeyParts, previous: KeyParts | null, otherSignatures: boolean): string {
  if (!previous) return otherSignatures ? 'signature new' : 'kernel new'
  const reasons: string[] = []
  const c = now.compiler
  const p = previous.compiler
  if (c.format !== p.format) reasons.push(`format version changed (${p.format} → ${c.format})`)
  if (c.compiler !== p.compiler) reasons.push(`compiler version changed (${p.compiler} → ${c.compiler})`)
  if (c.binaryen !== p.binaryen) reasons.push(`binaryen version changed (${p.binaryen} → ${c.binaryen})`)
  if (c.optimizeLevel !== p.optimizeLevel) reasons.push(`optimization level changed (${p.optimizeLevel} → ${c.optimizeLevel})`)
  if (c.features !== p.features) reasons.push('wasm features changed')
  if (now.kernel !== previous.kernel) reasons.push('kernel source changed')
  for (const name of new Set([...Object.keys(now.helpers), ...Object.keys(previous.helpers)])) {
    const a = previous.helpers[name]
    const b = now.helpers[name]
    if (a === undefined) reasons.push(`helper ${name} added`)
    else if (b === undefined) reasons.push(`helper ${name} no longer used`)
    else if (a !== b) reasons.push(`helper ${name} changed`)
  }
  for (const name of new Set([...Object.keys(now.constants), ...Object.keys(previous.constants)])) {
    const a = previous.constants[name]
    const b = now.constants[name]
    if (a === undefined) reasons.push(`constant ${name} added (${b})`)
    else if (b === undefined) reasons.push(`constant ${name} no longer read`)
    else if (a !== b) reasons.push(`constant ${name} ${a} → ${b}`)
  }
  if (now.variant !== previous.variant) reasons.push(`variant ${previous.variant || 'general'} → ${now.variant || 'general'}`)
  return reasons.length > 0 ? reasons.join(', ') : 'entry evicted, deleted or corrupt'
}

/** The slot of an entry in its kernel's index: signature plus variant. */
export function slotOf(parts: KeyParts): string {
  return parts.variant ? `${parts.signature} ${parts.variant}` : parts.signature
}
