// The build report: one row per kernel × signature.

export interface ReportRow {
  id: string
  /** The signature, with a precompiled range variant's guards in brackets. */
  signature: string
  bytes: number
  ms: number
  hit: boolean
  /** A range variant precompiled beside a signature's general module. */
  variant?: boolean
}

/** The report table; `bundle` names a bundle other than the main one (a worker's). */
export function buildReport(rows: ReportRow[], bundle: string | null = null): string {
  const table = [['kernel', 'signature', 'bytes', 'compile ms', 'cache'], ...rows.map((r) => [r.id, r.signature, String(r.bytes), r.hit ? '-' : r.ms.toFixed(1), r.hit ? 'hit' : 'compiled'])]
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
  const lines = table.map((r) => r.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd())
  const hits = rows.filter((r) => r.hit).length
  const variants = rows.filter((r) => r.variant).length
  const what = `${rows.length - variants} kernel signature(s)${variants ? ` + ${variants} range variant(s)` : ''}`
  return `\n[kiln] ${bundle ? `${bundle}: ` : ''}${what}: ${rows.length - hits} compiled, ${hits} from the cache\n${lines.join('\n')}\n`
}
