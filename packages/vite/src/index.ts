// @kiln/vite — placeholder until the plugin issue lands: a valid Vite/Rollup plugin object
// that does nothing yet, so configs can already list it.

export interface KilnPluginOptions {
  /** Reserved for the plugin issue. */
  strict?: boolean
}

export default function kiln(_options: KilnPluginOptions = {}): { name: string } {
  return { name: 'kiln' }
}
