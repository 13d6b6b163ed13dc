// The differential fuzzer in CI: a fixed-seed campaign of a few hundred generated kernels (each
// against plain JS in every tier, in worker threads), and the reducer shrinking a program.

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, test } from 'vitest'
// @ts-expect-error plain JS fuzzer
import { generate } from './fuzz/generate.mjs'
// @ts-expect-error plain JS fuzzer
import { Pool } from './fuzz/pool.mjs'
// @ts-expect-error plain JS fuzzer
import { reduce } from './fuzz/reduce.mjs'
// @ts-expect-error plain JS fuzzer
import { describeProgram } from './fuzz/run.mjs'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Program { kernel: string; helpers: { source: string }[]; argSets: unknown[] }
interface Report { count: number; calls: number; outcomes: Record<string, number>; missing: string[]; failures: unknown[]; coverage: Record<string, number> }

describe('differential fuzzing', () => {
  test('a fixed-seed campaign of 300 programs: every compiled call equals plain JS, nothing crashes or hangs', async () => {
    const file = join(dir, 'report.json')
    const result = await run(process.execPath, ['test/fuzz/cli.mjs', '--seed', '20261122', '--count', '300', '--workers', '2', '--json', file], { maxBuffer: 1 << 24 }).catch((e: { stdout: string; code: number }) => e)
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report
    // On a failure the command prints each failing program reduced to a few lines.
    expect(report.failures, 'stdout' in result ? result.stdout : '').toEqual([])
    expect(report.outcomes).toEqual({ ok: 300 })
    expect(report.calls).toBe(300 * 8 * 3)
    // Every operator, Math function, element type, statement and result kind was generated.
    expect(report.missing).toEqual([])
    expect(Object.keys(report.coverage).length).toBeGreaterThan(150)
  }, 600_000)

  test('the reducer shrinks a program to the few lines that keep its property', async () => {
    const pool = new Pool(2, 20_000)
    try {
      // The property: compiles and equals JS, and still contains an unsigned shift and a loop.
      // (A real failure is reduced the same way, with "fails the same way" as the property.)
      let prog: Program | null = null
      for (let i = 0; prog === null; i++) {
        const p = generate(77, i) as Program
        if (p.kernel.split('\n').length >= 15 && /for \(/.test(p.kernel) && />>>/.test(p.kernel)) prog = p
      }
      const keeps = async (p: Program): Promise<boolean> => /for \(/.test(p.kernel) && />>>/.test(p.kernel) && (await pool.run(p)).status === 'ok'
      const { prog: small, reproduced } = await reduce(prog, 0, keeps, { maxTries: 400 })
      expect(reproduced).toBe(true)
      expect(await keeps(small)).toBe(true)
      const lines = (s: string): number => s.split('\n').filter((l) => l.trim()).length
      expect(lines(small.kernel)).toBeLessThan(lines(prog.kernel))
      expect(lines(small.kernel)).toBeLessThanOrEqual(8)
      expect(small.helpers).toEqual([])
      expect(small.argSets).toHaveLength(1)
      expect(describeProgram(small)).toContain(small.kernel.split('\n')[0])
    } finally {
      await pool.close()
    }
  }, 300_000)
})
