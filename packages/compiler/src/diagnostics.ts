// The one Diagnostic type of the project, its code table, and the formatter that turns a
// diagnostic plus its source text into "file:line:column", a message and a code frame.
// Imports nothing, so the runtime may load it without loading the compiler.

/** Where a diagnostic points: byte offsets into one source text. */
export interface Span {
  /** Label of the source text: a module path, a kernel id or a helper name. */
  file: string
  start: number
  end: number
}

export interface Diagnostic {
  code: DiagnosticCode
  message: string
  span: Span | null
  /** Extra lines: what to do instead, where a related thing is declared. */
  notes: string[]
}

/** A source text that spans refer to. `line`/`column` place its first character in a larger file. */
export interface SourceText {
  code: string
  file: string
  /** 1-based line of the first character in the enclosing file. @default 1 */
  line?: number
  /** 0-based column of the first character in the enclosing file. @default 0 */
  column?: number
}

/** Every code, with the one-line meaning shown in docs and used by tests to prove coverage. */
export const diagnosticCodes = {
  // Compile time: parsing and the shape of the kernel.
  KILN_SYNTAX: 'the source does not parse as JavaScript',
  KILN_NOT_FUNCTION: 'the kernel or a helper is not a plain function',
  KILN_OBJECT: 'objects, array literals, `new`, `this` and classes are outside the kernel language',
  KILN_STRING: 'strings, template literals and regular expressions are outside the kernel language',
  KILN_CLOSURE: 'nested functions and closures are outside the kernel language',
  KILN_ASYNC: 'async functions, await and generators are outside the kernel language',
  KILN_EXCEPTION: 'try/catch/finally and throw are outside the kernel language',
  KILN_ARGUMENTS: '`arguments`, rest/default/destructured parameters and spread are outside the kernel language',
  KILN_STATEMENT: 'this statement is outside the kernel language',
  KILN_OPERATOR: 'this operator is outside the kernel language',
  // Compile time: names.
  KILN_UNKNOWN_NAME: 'a name that is not a parameter, local, dependency or Math member',
  KILN_UNKNOWN_FUNCTION: 'a call to a function that is not a helper dependency or a Math function',
  KILN_TDZ: 'a local used before its declaration',
  KILN_CONST_ASSIGN: 'assignment to a `const` local',
  KILN_GLOBAL_ASSIGN: 'assignment to a dependency, constant or Math',
  KILN_NO_INIT: 'a `let` without an initial value',
  KILN_RECURSION: 'a helper that calls itself, directly or through others',
  KILN_ARITY: 'a call or signature with the wrong number of arguments',
  // Compile time: types.
  KILN_TYPE_MIX: 'one value is used as both a boolean and a number',
  KILN_ARRAY_VALUE: 'an array used where a number or boolean is needed',
  KILN_ARRAY_ASSIGN: 'assignment to a binding that holds an array',
  KILN_LENGTH_WRITE: 'assignment to an array\'s `length`',
  KILN_PROPERTY: 'a property other than an array\'s `length` or a Math member',
  KILN_CONST_WRITE: 'a write into a constant (folded) array',
  KILN_RETURN_TYPE: 'a returned value that does not fit the declared result type',
  KILN_NOT_INDEXABLE: 'indexing a value that is not an array',
  // The plugin: resolving a kernel's dependencies across files.
  KILN_NOT_CONSTANT: 'a module-scope value a kernel reads that cannot be folded into a constant',
  KILN_UNRESOLVED_IMPORT: 'an import a kernel depends on that does not resolve',
  KILN_DEP_CONFLICT: 'one name bound to two different helpers or constants of a kernel',
  KILN_NOT_PRECOMPILED: 'a call with a signature the build did not precompile (strict mode)',
  KILN_DEV_COMPILE: 'the dev server could not compile a signature a page called',
  // Inputs to the compiler and the runtime.
  KILN_SIGNATURE: 'a signature string that does not parse',
  KILN_BAD_CONSTANT: 'a dependency value that cannot be folded into a constant',
  KILN_NO_SIGNATURE: 'a call whose arguments match no signature of the kernel',
  KILN_MEMORY_FULL: 'kernel memory cannot grow without detaching live arrays',
  KILN_DETACHED_ARRAY: 'an array allocated in kernel memory was freed or detached',
  KILN_TOO_LARGE: 'a kernel (with its helpers) too large to optimize',
  KILN_BAD_ARGUMENT: 'a runtime API called with an argument or option of the wrong kind',
  KILN_ARTIFACT: 'a precompiled artifact that is missing, truncated, corrupt, invalid or too slow to arrive (its kernel runs as plain JS)',
  KILN_CACHE_NOT_STORE: 'a directory given as the kernel cache that Kiln did not make (clear refuses it)',
  KILN_INTERNAL: 'a bug in Kiln (please report it)',
} as const

export type DiagnosticCode = keyof typeof diagnosticCodes

export function diagnostic(code: DiagnosticCode, message: string, span: Span | null, notes: string[] = []): Diagnostic {
  return { code, message, span, notes }
}

/** 1-based line and 0-based column of an offset, in the enclosing file's coordinates. */
export function locate(source: SourceText, offset: number): { line: number; column: number } {
  let line = 0
  let lineStart = 0
  const end = Math.min(offset, source.code.length)
  for (let i = 0; i < end; i++) {
    if (source.code.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  const baseLine = source.line ?? 1
  const baseColumn = source.column ?? 0
  return { line: baseLine + line, column: (line === 0 ? baseColumn : 0) + (offset - lineStart) }
}

/** A code frame: two lines of context, the offending line marked with `>` and carets under the span. */
export function codeFrame(source: SourceText, span: Span): string {
  const lines = source.code.split('\n')
  const { line: startLine } = locate({ code: source.code, file: source.file }, span.start)
  const startIndex = startLine - 1
  const lineStart = source.code.lastIndexOf('\n', span.start - 1) + 1
  const column = span.start - lineStart
  const lineText = lines[startIndex] ?? ''
  const width = Math.max(1, Math.min(span.end, lineStart + lineText.length) - span.start)
  const baseLine = source.line ?? 1
  const first = Math.max(0, startIndex - 2)
  const last = Math.min(lines.length - 1, startIndex + 1)
  const gutter = String(baseLine + last).length
  const out: string[] = []
  for (let i = first; i <= last; i++) {
    const marker = i === startIndex ? '>' : ' '
    const number = String(baseLine + i).padStart(gutter)
    out.push(`${marker} ${number} | ${lines[i]}`)
    if (i === startIndex) {
      const pad = lines[i].slice(0, column).replace(/[^\t]/g, ' ')
      out.push(`  ${' '.repeat(gutter)} | ${pad}${'^'.repeat(width)}`)
    }
  }
  return out.join('\n')
}

/** `file:line:column: CODE message`, the frame, then the notes. */
export function formatDiagnostic(d: Diagnostic, sources: readonly SourceText[]): string {
  const source = d.span ? sources.find((s) => s.file === d.span!.file) : undefined
  if (!d.span || !source) {
    return [`${d.code}: ${d.message}`, ...d.notes.map((n) => `  note: ${n}`)].join('\n')
  }
  const { line, column } = locate(source, d.span.start)
  return [
    `${d.span.file}:${line}:${column + 1}: ${d.code}: ${d.message}`,
    codeFrame(source, d.span),
    ...d.notes.map((n) => `  note: ${n}`),
  ].join('\n')
}

/** Position of a diagnostic in file coordinates, for bundler errors and tests. */
export function diagnosticLocation(d: Diagnostic, sources: readonly SourceText[]): { file: string; line: number; column: number } | null {
  if (!d.span) return null
  const source = sources.find((s) => s.file === d.span!.file)
  if (!source) return null
  return { file: d.span.file, ...locate(source, d.span.start) }
}
