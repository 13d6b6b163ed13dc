// The library's entry: re-exports (the plugin follows the chain to the helpers' source).
export { clamp, mix as lerp } from './color.js'
export * from './color.js'
