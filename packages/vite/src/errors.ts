// The one place diagnostics become bundler errors: message, code, file, line, column, frame.

import { codeFrame, diagnosticLocation, formatDiagnostic, type Diagnostic, type SourceText } from '@kiln/compiler/diagnostics'
import type { RollupError } from 'rollup'
import type { DependencyProblem } from './deps.js'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import type { ModuleSyntaxError, OriginalSource } from './moduleCache.js'
import { positionOf } from './moduleInfo.js'

export function diagnosticError(diagnostics: Diagnostic[], sources: readonly SourceText[]): RollupError {
  const d = diagnostics[0]
  const loc = diagnosticLocation(d, sources)
  const source = d.span ? sources.find((s) => s.file === d.span!.file) : undefined
  // The frame goes in `frame` (bundlers print it, Vite's overlay shows it), not in the message too.
  const headline = (x: Diagnostic): string => formatDiagnostic(x, sources).split('\n').filter((l) => !/^[> ] *\d* \|/.test(l)).join('\n')
  return {
    message: diagnostics.map(headline).join('\n'),
    pluginCode: d.code,
    id: loc?.file,
    loc: loc ? { file: loc.file, line: loc.line, column: loc.column } : undefined,
    frame: source && d.span ? codeFrame(source, d.span) : undefined,
  }
}

export function dependencyError(p: DependencyProblem): RollupError {
  const file = p.module.id
  const source: SourceText = { code: p.module.code, file }
  const span = { file, start: p.node.start, end: p.node.end }
  const { line, column } = positionOf(p.module, p.node.start)
  return {
    message: [`${file}:${line}:${column + 1}: ${p.code}: ${p.message}`, ...p.notes.map((n) => `  note: ${n}`)].join('\n'),
    pluginCode: p.code,
    id: file,
    loc: { file, line, column },
    frame: codeFrame(source, span),
  }
}

/** A dependency file that does not parse: the error points into that file, not the kernel's. */
export function syntaxError(e: ModuleSyntaxError): RollupError {
  const module = { code: e.code }
  const { line, column } = positionOf(module, e.offset)
  const source: SourceText = { code: e.code, file: e.file }
  return {
    message: `${e.file}:${line}:${column + 1}: KILN_SYNTAX: ${e.message}\n  note: the kernel reads this file; fix the syntax error and the kernel is compiled again`,
    pluginCode: 'KILN_SYNTAX',
    id: e.file,
    loc: { file: e.file, line, column },
    frame: codeFrame(source, { file: e.file, start: e.offset, end: Math.min(e.offset + 1, e.code.length) }),
  }
}

/**
 * An error located in JS that Kiln read after a transform (TypeScript stripped, a framework's
 * output) pointed back at the file as its author wrote it: message, `loc` and frame.
 */
export function locateInOriginal(error: RollupError, original: OriginalSource | undefined): RollupError {
  if (!original || !error.loc?.file) return error
  const at = originalPositionFor(new TraceMap(original.map as ConstructorParameters<typeof TraceMap>[0]), { line: error.loc.line, column: error.loc.column })
  if (at.line === null || at.column === null) return error
  const { file } = error.loc
  const lines = original.code.split('\n')
  const start = lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0) + at.column
  const token = /^[\w$]+|^\S/.exec(original.code.slice(start))?.[0].length ?? 1
  return {
    ...error,
    message: error.message.replace(`${file}:${error.loc.line}:${error.loc.column + 1}`, `${file}:${at.line}:${at.column + 1}`),
    loc: { file, line: at.line, column: at.column },
    frame: codeFrame({ code: original.code, file }, { file, start, end: start + token }),
  }
}
