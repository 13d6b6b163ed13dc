// Compiler identity: everything about the compiler that changes the bytes it emits. It is
// part of every cache key, so a compiler upgrade never serves modules built by another.

/** Bumped when the artifact or entry format changes. */
export const FORMAT_VERSION = 1
export const COMPILER_VERSION = '0.4.7'
/** The binaryen release this compiler is built and tested against (checked by a test). */
export const BINARYEN_VERSION = '132.0.0'
export const DEFAULT_OPTIMIZE_LEVEL = 3
/** Features every module may use; a variant that assumes `simd` may use simd128 too. */
export const WASM_FEATURES = 'mvp+mutable-globals+sat-float-to-int+sign-ext+bulk-memory'

export interface CompilerIdentity {
  format: number
  compiler: string
  binaryen: string
  optimizeLevel: number
  features: string
}

export function compilerIdentity(optimizeLevel = DEFAULT_OPTIMIZE_LEVEL): CompilerIdentity {
  return { format: FORMAT_VERSION, compiler: COMPILER_VERSION, binaryen: BINARYEN_VERSION, optimizeLevel, features: WASM_FEATURES }
}
