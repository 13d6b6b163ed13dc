// Long-lived processes other than the dev server: `vitest watch` (a real child process),
// `vite build --watch` and `rollup --watch`. Each sees a helper edit behind a re-export chain and
// a config edit; every result must come from compiled code and equal the current source run as
// plain JS in Node.

import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import kiln from '@kiln/vite'
import { watch as rollupWatch, type RollupWatcher } from 'rollup'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { copyApp, matches, plainResults, repoRoot, waitUntil, type App, type Cases } from './support/dev.js'

const tmp = join(repoRoot, 'test', '.tmp', `watch-${process.pid}`)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** The edits every watcher must see, in order: a helper behind a two-step re-export chain, then a config constant. */
const edits: [string, string, string][] = [
  ['src/lib/color.js', 'x > hi ? hi : x', 'x > hi ? hi - 1 : x'],
  ['src/config.js', 'GAIN = 1.5', 'GAIN = 1.25'],
]

async function expectCurrent(app: App, got: Cases): Promise<void> {
  const { sum: _, ...expected } = await plainResults(app, tmp)
  for (const [name, c] of Object.entries(got)) expect(c, name).toEqual({ tier: 'aot', value: expected[name] })
  expect(matches(got, expected)).toBe(true)
}

/** Runs a built `cases.js` in a fresh Node process and returns what `compute()` gives. */
function runBuilt(file: string): Cases {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(JSON.stringify(m.compute()))`
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split('\n').at(-1)!)
}

/** Drives a watcher: after each finished build, checks its output, then makes the next edit. */
async function throughEdits(app: App, watcher: RollupWatcher, output: string): Promise<number> {
  let builds = 0
  await new Promise<void>((done, fail) => {
    watcher.on('event', (e) => {
      if (e.code === 'ERROR') fail(e.error)
      if (e.code === 'BUNDLE_END') void e.result.close()
      if (e.code !== 'END') return
      const got = runBuilt(output)
      expectCurrent(app, got).then(async () => {
        const edit = edits[builds++]
        if (!edit) return done()
        await app.edit(...edit)
      }).catch(fail)
    })
  })
  return builds
}

describe('watch modes never run stale code', () => {
  test('vitest watch: a helper edit and a config edit each rerun the test with fresh compiled code; the test worker never compiles', async () => {
    const app = copyApp(tmp, 'vitest')
    const results = join(app.dir, 'results.json')
    const child = spawn(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'watch', '--root', app.dir], { cwd: app.dir, env: { ...process.env, KILN_RESULTS: results, CI: '1' } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const read = async (): Promise<Cases | null> => (existsSync(results) ? JSON.parse(readFileSync(results, 'utf8') || 'null') : null)
    try {
      await expectCurrent(app, (await waitUntil(read, (r) => r !== null, 60_000))!)
      for (const edit of edits) {
        rmSync(results)
        await app.edit(...edit)
        await expectCurrent(app, (await waitUntil(read, (r) => r !== null, 30_000))!)
      }
      // The fixture's test asserts tier aot and no compile in its worker; it never failed.
      expect(out).not.toMatch(/\bFAIL\b|failed/)
      expect(out.match(/RERUN/g)?.length).toBe(edits.length)
    } finally {
      child.kill()
    }
  })

  test('vite build --watch: the same edits give fresh artifacts', async () => {
    const app = copyApp(tmp, 'vite-watch')
    const { build } = await import('vite')
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const watcher = (await build({
      root: app.dir, configFile: join(app.dir, 'vite.config.js'), logLevel: 'error',
      build: { ssr: 'src/cases.js', outDir: 'dist-ssr', emptyOutDir: true, watch: {} },
    })) as unknown as RollupWatcher
    try {
      const builds = await throughEdits(app, watcher, join(app.dir, 'dist-ssr/cases.js'))
      expect(builds).toBe(edits.length + 1)
    } finally {
      await watcher.close()
      log.mockRestore()
    }
  })

  test('rollup --watch: the same edits give fresh artifacts', async () => {
    const app = copyApp(tmp, 'rollup-watch')
    const watcher = rollupWatch({
      input: join(app.dir, 'src/cases.js'),
      plugins: [kiln({ report: false }), { name: 'external-kiln', resolveId: (id) => (id === 'kiln' ? { id, external: true } : null) }],
      output: { dir: join(app.dir, 'dist-rollup'), format: 'es' },
      watch: { buildDelay: 50 },
      onLog: () => {},
    })
    try {
      const builds = await throughEdits(app, watcher, join(app.dir, 'dist-rollup/cases.js'))
      expect(builds).toBe(edits.length + 1)
    } finally {
      await watcher.close()
    }
  })
})
