// KilnError: what the runtime throws for bad input, carrying the project's Diagnostic list.

import { diagnostic, formatDiagnostic, type Diagnostic, type DiagnosticCode, type SourceText } from '@kiln/compiler/diagnostics'

export class KilnError extends Error {
  readonly code: DiagnosticCode
  readonly diagnostics: Diagnostic[]

  constructor(diagnostics: Diagnostic[], sources: readonly SourceText[] = []) {
    super(diagnostics.map((d) => formatDiagnostic(d, sources)).join('\n\n'))
    this.name = 'KilnError'
    this.code = diagnostics[0]?.code ?? 'KILN_INTERNAL'
    this.diagnostics = diagnostics
  }

  static of(code: DiagnosticCode, message: string, notes: string[] = []): KilnError {
    return new KilnError([diagnostic(code, message, null, notes)])
  }
}
