// Call-site rewriting: the plugin's data goes into the kernel's options as `__kiln`.

import type MagicString from 'magic-string'
import type { KernelSite } from './discover.js'
import type { Folded } from './fold.js'

/** Adds `__kiln: data` to the options object literal, or an options argument when there is none. */
export function injectPluginData(out: MagicString, site: KernelSite, data: string): void {
  const options = site.options
  if (!options) {
    out.appendLeft(site.call.arguments[0].end, `, { __kiln: ${data} }`)
    return
  }
  const last = options.properties.at(-1)
  if (last) out.appendLeft(last.end, `, __kiln: ${data}`)
  else out.appendLeft(options.start + 1, ` __kiln: ${data} `)
}

/** A JS literal for folded constants (JSON cannot say NaN, Infinity or -0). */
export function constantsLiteral(constants: Record<string, Folded>): string {
  const num = (v: number): string => (Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v))
  const value = (v: Folded): string => (Array.isArray(v) ? `[${v.map(num).join(', ')}]` : typeof v === 'number' ? num(v) : String(v))
  return `{ ${Object.entries(constants).map(([k, v]) => `${JSON.stringify(k)}: ${value(v)}`).join(', ')} }`
}
