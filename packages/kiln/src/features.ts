// What the engine running the page (or Node) supports, detected once.

let simd: boolean | undefined

/**
 * Whether the engine compiles wasm simd128: a module of one function using v128 validates
 * (`i32.const 0; i8x16.splat; i8x16.popcnt`, as wasm-feature-detect probes it).
 */
export function simdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]))
    } catch {
      simd = false
    }
  }
  return simd
}
