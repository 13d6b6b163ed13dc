// @kiln/compiler: kernel source + dependencies + signature → optimized wasm + metadata.
// Pure: no file system, no bundler. Loading it loads binaryen (about half a second).

export { compileKernel, normalizeConstants } from './compile.js'
export type { Assumptions, CompileInput, CompileResult, ConstantInput, KernelMeta, ParamMeta } from './compile.js'
export { kernelKey, normalizedAst, canonicalConstant, hashText, variantText } from './key.js'
export type { KernelKey, KeyInput, KeyParts } from './key.js'
export { codeFrame, diagnostic, diagnosticCodes, diagnosticLocation, formatDiagnostic, locate } from './diagnostics.js'
export type { Diagnostic, DiagnosticCode, SourceText, Span } from './diagnostics.js'
export { formatSignature, parseSignature, SignatureError, elementInfo } from './signature.js'
export type { ElementTypeName, ParamType, ResultType, ScalarTypeName, Signature } from './signature.js'
export { compilerIdentity, BINARYEN_VERSION, COMPILER_VERSION, DEFAULT_OPTIMIZE_LEVEL, FORMAT_VERSION } from './version.js'
export type { CompilerIdentity } from './version.js'
export { INLINE_EXPONENTS } from './power.js'
