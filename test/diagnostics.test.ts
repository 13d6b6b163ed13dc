// The bad-input catalogue: each unsupported construct gives its diagnostic code at the marked
// line and column, with a code frame; together the cases cover every compile-time code.

import { compileKernel, diagnosticCodes, diagnosticLocation, formatDiagnostic, locate, type DiagnosticCode } from '@kiln/compiler'
import { kernel, KilnError } from 'kiln'
import { describe, expect, test } from 'vitest'
import { catalogue } from './fixtures/diagnostics/catalogue.js'

const MARK = '/*!*/'
const strip = (s: string): { code: string; offset: number } => ({ code: s.replace(MARK, ''), offset: s.indexOf(MARK) })

/** Codes only the runtime or the plugin raise; their own tests cover them. */
const runtimeOnly: DiagnosticCode[] = [
  'KILN_NO_SIGNATURE', 'KILN_MEMORY_FULL', 'KILN_DETACHED_ARRAY', 'KILN_INTERNAL', 'KILN_CACHE_NOT_STORE', 'KILN_ARTIFACT', 'KILN_BAD_ARGUMENT',
  'KILN_NOT_CONSTANT', 'KILN_UNRESOLVED_IMPORT', 'KILN_DEP_CONFLICT', 'KILN_NOT_PRECOMPILED', 'KILN_DEV_COMPILE',
]

describe('bad input gives a diagnostic with a code, a location and a frame', () => {
  test('the catalogue has at least 25 constructs', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(25)
  })

  for (const c of catalogue) {
    test(c.name, () => {
      const kernelSource = strip(c.source)
      const deps = Object.fromEntries(Object.entries(c.deps ?? {}).map(([n, s]) => [n, { code: strip(s).code, file: n }]))
      const r = compileKernel({
        source: { code: kernelSource.code, file: 'kernel.js' }, name: 'kernel.js', deps,
        constants: c.constants as never, signature: c.signature,
      })
      expect(r.ok).toBe(false)
      const codes = r.diagnostics.map((d) => d.code)
      expect(codes).toContain(c.code)
      for (const code of codes) expect(Object.keys(diagnosticCodes)).toContain(code)
      const d = r.diagnostics.find((x) => x.code === c.code)!
      const text = formatDiagnostic(d, r.sources)
      expect(text).toContain(c.code)
      if (c.at === null) return
      const file = c.at ?? 'kernel.js'
      const marked = file === 'kernel.js' ? kernelSource : strip(c.deps![file])
      expect(marked.offset).toBeGreaterThanOrEqual(0)
      expect(d.span).toMatchObject({ file, start: marked.offset })
      const expected = locate({ code: marked.code, file }, marked.offset)
      expect(diagnosticLocation(d, r.sources)).toEqual({ file, ...expected })
      expect(text).toContain(`${file}:${expected.line}:${expected.column + 1}: ${c.code}`)
      // The frame marks the offending line and underlines the construct.
      expect(text).toMatch(new RegExp(`^> +${expected.line} \\|`, 'm'))
      expect(text).toMatch(/^ +\| *\^+/m)
    })
  }

  test('together the cases cover every compile-time code', () => {
    const covered = new Set(catalogue.map((c) => c.code))
    const compileTime = Object.keys(diagnosticCodes).filter((c) => !runtimeOnly.includes(c as DiagnosticCode))
    expect(compileTime.filter((c) => !covered.has(c))).toEqual([])
  })

  test('the runtime throws compile errors as KilnError with code and diagnostics', async () => {
    const k = kernel(function bad(a: Float64Array) {
      // An object literal: valid TS, outside the kernel language.
      return { total: a[0] }
    })
    const error = await k.compile('(f64[])').then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(KilnError)
    expect((error as KilnError).code).toBe('KILN_OBJECT')
    expect((error as KilnError).diagnostics[0].span?.file).toBe('bad')
    expect((error as KilnError).message).toMatch(/^bad:\d+:\d+: KILN_OBJECT: object literals/)
    expect(k.tier('(f64[])')).toBe('js')
  })
})
