// The plugin's options, normalized once.

export interface KilnPluginOptions {
  /**
   * File listing extra signatures per kernel id, committed with the app (the dev server will
   * record the signatures it sees into it). Format: `{ "version": 1, "kernels": { "src/filters.ts#brighten": ["(u8c[], f64) => void"] } }`.
   * @default 'kiln.signatures.json' (in the project root)
   */
  signaturesFile?: string
  /** A call with a signature the build did not precompile throws instead of compiling at run time. @default false */
  strict?: boolean
  /** Print the build report (kernels, signatures, bytes, compile time, cache hits). @default true */
  report?: boolean
  /**
   * How artifacts are emitted: `chunk` packs the artifacts a chunk loads into one content-hashed
   * asset (`assets/kernels-<hash>.kiln`; one request per chunk), `kernel` emits one content-hashed
   * `.wasm` per kernel and signature. The manifest gives each artifact's file and byte range.
   * @default 'chunk'
   */
  artifacts?: 'chunk' | 'kernel'
  /** Where compiled modules are cached between builds. @default `<Vite cacheDir>/kiln`, else node_modules/.cache/kiln */
  cacheDir?: string
  /**
   * How long a page waits for an artifact (a pack or `.wasm`) before its kernels run as plain
   * JS, in milliseconds. @default 5000
   */
  artifactTimeout?: number
}

export interface ResolvedOptions {
  signaturesFile: string
  strict: boolean
  report: boolean
  cacheDir: string | undefined
  artifacts: 'chunk' | 'kernel'
  artifactTimeout: number
}

export function resolveOptions(o: KilnPluginOptions = {}): ResolvedOptions {
  return { signaturesFile: o.signaturesFile ?? 'kiln.signatures.json', strict: o.strict ?? false, report: o.report ?? true, cacheDir: o.cacheDir, artifacts: o.artifacts ?? 'chunk', artifactTimeout: o.artifactTimeout ?? 5000 }
}
