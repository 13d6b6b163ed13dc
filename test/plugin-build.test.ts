// Real builds of a fixture app with real Vite and real Rollup, run (SSR output in Node, client
// output in Chromium through `vite preview`), edited file by file and rebuilt.

import { execFileSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import kiln from '@kiln/vite'
import { rollup, watch } from 'rollup'
import { build } from 'vite'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { compilerChunks, visitPreview } from './support/browser.js'

const root = resolve(import.meta.dirname, '..')
const tmpRoot = join(root, 'test', '.tmp', `plugin-${process.pid}`)
let counter = 0
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))

interface Result { tier: string; got: unknown; expected: unknown }
type Results = Record<string, Result>

function app(): { dir: string; edit: (file: string, from: string, to: string) => void } {
  const dir = join(tmpRoot, `app${counter++}`)
  cpSync(join(root, 'test/fixtures/plugin/app'), dir, { recursive: true })
  return {
    dir,
    edit(file, from, to) {
      const path = join(dir, file)
      const text = readFileSync(path, 'utf8')
      if (!text.includes(from)) throw new Error(`${file} has no ${from}`)
      writeFileSync(path, text.replace(from, to))
    },
  }
}

/** Vite SSR build; returns the report it printed. */
async function buildSsr(dir: string): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  try {
    await build({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'error', build: { ssr: 'src/main.js', outDir: 'dist-ssr', emptyOutDir: true } })
    return log.mock.calls.map((c) => String(c[0])).join('\n')
  } finally {
    log.mockRestore()
  }
}

function runNode(file: string): Results {
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim())
}

function expectAllCompiledAndCorrect(results: Results): void {
  for (const [name, r] of Object.entries(results)) {
    expect(r.tier, name).toBe('aot')
    expect(r.got, name).toEqual(r.expected)
  }
}

/** The artifact assets of an output (packs, or `.wasm` files), by name. */
const artifactFiles = (dir: string): Map<string, Buffer> =>
  new Map(readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.kiln') || f.endsWith('.wasm')).map((f) => [f, readFileSync(join(dir, 'assets', f))]))

interface ManifestEntry { file: string; offset: number; length: number; key: string }

/** Every manifest entry names a valid wasm module in the output; returns the entries. */
function manifestEntries(dir: string): [string, ManifestEntry][] {
  const manifest = JSON.parse(readFileSync(join(dir, 'kiln-manifest.json'), 'utf8')) as { kernels: Record<string, Record<string, ManifestEntry>> }
  const entries = Object.entries(manifest.kernels).flatMap(([id, sigs]) => Object.entries(sigs).map(([sig, e]) => [`${id} ${sig}`, e] as [string, ManifestEntry]))
  for (const [name, e] of entries) {
    const bytes = readFileSync(join(dir, e.file)).subarray(e.offset, e.offset + e.length)
    expect(bytes.length, name).toBe(e.length)
    expect(WebAssembly.validate(bytes), name).toBe(true)
    expect(e.key, name).toMatch(/^[0-9a-f]{64}$/)
  }
  return entries
}

describe('vite build (SSR), run in Node', () => {
  test('every kernel is precompiled and equals plain JS; edits in other files are never stale', async () => {
    const a = app()
    const report = await buildSsr(a.dir)
    expect(report).toMatch(/5 kernel signature\(s\) \+ 2 range variant\(s\): 7 compiled, 0 from the cache/)
    const base = runNode(join(a.dir, 'dist-ssr/main.js'))
    expectAllCompiledAndCorrect(base)
    const manifest = JSON.parse(readFileSync(join(a.dir, 'dist-ssr/kiln-manifest.json'), 'utf8'))
    expect(Object.keys(manifest.kernels).sort()).toEqual(['src/filters.js#brighten', 'src/filters.js#viaChain', 'src/filters.js#viaCycle', 'src/filters.js#viaNamespace', 'src/other/filters.js#brighten'])
    // One pack for the chunk: every artifact is a byte range of it, and a valid module.
    const entries = manifestEntries(join(a.dir, 'dist-ssr'))
    expect(new Set(entries.map(([, e]) => e.file)).size).toBe(1)
    expect(entries[0][1].file).toMatch(/^assets\/kernels-[\w-]+\.kiln$/)
    expect(new Set(entries.map(([, e]) => e.offset)).size).toBe(entries.length)
    // Two kernels named `brighten` in two modules: both work, with their own results.
    expect(base.brighten.got).not.toEqual(base.otherBrighten.got)

    /** Edits one file, rebuilds, runs the output: every kernel precompiled and equal to plain JS. */
    const afterEdit = async (file: string, from: string, to: string): Promise<Results> => {
      a.edit(file, from, to)
      await buildSsr(a.dir)
      const results = runNode(join(a.dir, 'dist-ssr/main.js'))
      expectAllCompiledAndCorrect(results)
      return results
    }

    // A helper in another file (reached directly and through a two-step re-export chain).
    const helper = await afterEdit('src/math.js', 'x > hi ? hi : x', 'x > hi ? hi - 0.5 : x')
    expect(helper.viaChain.got).not.toEqual(base.viaChain.got)
    expect(helper.brighten.got).not.toEqual(base.brighten.got)

    // A namespace-imported helper.
    const ns = await afterEdit('src/ns.js', 'x * 3', 'x * 4')
    expect(ns.viaNamespace.got).not.toEqual(helper.viaNamespace.got)

    // A const in a config module (and one folded from it).
    const config = await afterEdit('src/config.js', 'GAIN = 1.5', 'GAIN = 2')
    expect(config.brighten.got).not.toEqual(ns.brighten.got)

    // A circular import between helper modules, edited on the far side.
    const cycle = await afterEdit('src/cycleA.js', 'LIMIT = 100', 'LIMIT = 2')
    expect(cycle.viaCycle.got).not.toEqual(config.viaCycle.got)
  })

  test('an unrelated function in a helper file changes: same artifacts, byte for byte, no recompile', async () => {
    const a = app()
    await buildSsr(a.dir)
    const before = artifactFiles(join(a.dir, 'dist-ssr'))
    expect(before.size).toBe(1)
    a.edit('src/math.js', 'return a * 2', 'return a * 2 + 1')
    const report = await buildSsr(a.dir)
    expect(report).toMatch(/5 kernel signature\(s\) \+ 2 range variant\(s\): 0 compiled, 7 from the cache/)
    expect(artifactFiles(join(a.dir, 'dist-ssr'))).toEqual(before)
  })
})

describe('rollup build', () => {
  async function rollupBuild(dir: string): Promise<void> {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const bundle = await rollup({
        input: join(dir, 'src/main.js'),
        // `kiln` stays external: the bundle imports it from the app's dependencies.
        plugins: [kiln({ cacheDir: join(dir, '.kiln-cache'), artifacts: 'kernel' }), { name: 'external-kiln', resolveId: (id) => (id === 'kiln' ? { id, external: true } : null) }],
      })
      await bundle.write({ dir: join(dir, 'dist-rollup'), format: 'es' })
      await bundle.close()
    } finally {
      log.mockRestore()
    }
  }

  test('the same plugin object works in rollup.config (one .wasm per artifact)', async () => {
    const a = app()
    await rollupBuild(a.dir)
    const results = runNode(join(a.dir, 'dist-rollup', 'main.js'))
    expectAllCompiledAndCorrect(results)
    // `artifacts: 'kernel'`: each artifact is its own content-hashed .wasm, named after its kernel.
    const entries = manifestEntries(join(a.dir, 'dist-rollup'))
    // Five signatures, and the range variants of the two kernels that take a number (brighten's amount).
    expect(entries.filter(([name]) => !name.includes(' [len')).length).toBe(5)
    expect(entries.filter(([name]) => name.includes(' [len')).map(([name]) => name.split(' ')[0].replace(/^.*?(src\/)/, '$1')).sort()).toEqual(['src/filters.js#brighten', 'src/other/filters.js#brighten'])
    for (const [name, e] of entries) {
      expect(e.file, name).toMatch(new RegExp(`^assets/${name.split('#')[1].split(' ')[0]}-[\\w-]+\\.wasm$`))
      expect(e.offset, name).toBe(0)
      expect(statSync(join(a.dir, 'dist-rollup', e.file)).size, name).toBe(e.length)
    }
    // Edit a constant in another module and rebuild: the new value, precompiled.
    a.edit('src/config.js', 'GAIN = 1.5', 'GAIN = 0.5')
    await rollupBuild(a.dir)
    const edited = runNode(join(a.dir, 'dist-rollup', 'main.js'))
    expectAllCompiledAndCorrect(edited)
    expect(edited.brighten.got).not.toEqual(results.brighten.got)
  })
})

describe('rollup --watch', () => {
  test('an edit in a config module rebuilds with the new value; modules served from the watch cache keep their artifacts', async () => {
    const a = app()
    const outDir = join(a.dir, 'dist-watch')
    const watcher = watch({
      input: join(a.dir, 'src/main.js'),
      plugins: [kiln({ cacheDir: join(a.dir, '.kiln-cache'), report: false }), { name: 'external-kiln', resolveId: (id) => (id === 'kiln' ? { id, external: true } : null) }],
      output: { dir: outDir, format: 'es' },
      watch: { buildDelay: 50 },
      onLog: () => {},
    })
    const builds: Results[] = []
    try {
      await new Promise<void>((done, fail) => {
        watcher.on('event', (e) => {
          if (e.code === 'ERROR') fail(e.error)
          if (e.code === 'BUNDLE_END') void e.result.close()
          if (e.code !== 'END') return
          builds.push(runNode(join(outDir, 'main.js')))
          if (builds.length === 1) a.edit('src/config.js', 'GAIN = 1.5', 'GAIN = 0.5')
          else done()
        })
      })
    } finally {
      await watcher.close()
    }
    for (const results of builds) expectAllCompiledAndCorrect(results)
    expect(builds[1].brighten.got).not.toEqual(builds[0].brighten.got)
    // src/other/filters.js does not import config.js: Rollup served it from its watch cache, and
    // its artifact still rendered (the plugin keeps artifacts across rebuilds).
    expect(builds[1].otherBrighten.got).toEqual(builds[0].otherBrighten.got)
  })
})

describe('vite build (client), run in Chromium through vite preview', () => {
  test('kernels run precompiled in the page, which never loads the compiler', async () => {
    const a = app()
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await build({ root: a.dir, configFile: join(a.dir, 'vite.config.js'), logLevel: 'error', build: { outDir: 'dist', emptyOutDir: true } })
    } finally {
      log.mockRestore()
    }
    // The compiler is a separate chunk, there only for signatures that were not precompiled.
    const compiler = compilerChunks(join(a.dir, 'dist/assets'))
    expect(compiler.length).toBeGreaterThanOrEqual(1)
    const { values, requests } = await visitPreview({ root: a.dir, configFile: join(a.dir, 'vite.config.js') }, ['__results', '__workerResult'])
    expectAllCompiledAndCorrect(values.__results as Results)
    // A module worker ran a kernel from its own precompiled artifact.
    const worker = values.__workerResult as Result
    expect(worker.tier).toBe('aot')
    expect(worker.got).toEqual(worker.expected)
    // The page and the worker each read their chunk's pack, once.
    const packs = requests.filter((u) => u.endsWith('.kiln'))
    expect(packs.length).toBeGreaterThanOrEqual(2)
    expect(new Set(packs).size).toBe(packs.length)
    // What the page loaded holds neither the compiler nor binaryen.
    expect(requests.filter((u) => compiler.some((c) => u.endsWith(c)))).toEqual([])
    expect(requests.filter((u) => /\/key-[\w-]+\.js$/.test(u))).toEqual([])
  })
})

describe('signatures beyond the declared ones', () => {
  test('signatures listed in kiln.signatures.json are precompiled; others warn once and compile at run time', async () => {
    const a = app()
    writeFileSync(join(a.dir, 'kiln.signatures.json'), JSON.stringify({ version: 1, kernels: { 'src/filters.js#viaChain': ['(f32[]) => void'] } }))
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await build({ root: a.dir, configFile: join(a.dir, 'vite.config.js'), logLevel: 'error', build: { ssr: 'src/extra.js', outDir: 'dist-extra', emptyOutDir: true } })
    } finally {
      log.mockRestore()
    }
    const out = JSON.parse(execFileSync(process.execPath, [join(a.dir, 'dist-extra/extra.js')], { encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: join(a.dir, '.runtime-cache') } }).trim())
    expect(out.f32.tier).toBe('aot')
    expect(out.f32.got).toEqual(out.f32.expected)
    expect(out.i32.error).toBeNull()
    expect(out.i32.got).toEqual(out.i32.expected)
    expect(out.i32.tierAfter).toBe('compiled')
    expect(out.warnings).toHaveLength(1)
    expect(out.warnings[0]).toContain('KILN_NOT_PRECOMPILED: kernel src/filters.js#viaChain was called with (i32[])')
  })

  test('strict: a signature that was not precompiled is an error', async () => {
    const a = app()
    writeFileSync(join(a.dir, 'vite.config.js'), "import kiln from '@kiln/vite'\nexport default { plugins: [kiln({ strict: true, report: false })], logLevel: 'warn' }\n")
    await build({ root: a.dir, configFile: join(a.dir, 'vite.config.js'), logLevel: 'error', build: { ssr: 'src/extra.js', outDir: 'dist-extra', emptyOutDir: true } })
    const out = JSON.parse(execFileSync(process.execPath, [join(a.dir, 'dist-extra/extra.js')], { encoding: 'utf8' }).trim())
    expect(out.i32.error).toBe('KILN_NOT_PRECOMPILED')
    expect(out.f32.error).toBe('KILN_NOT_PRECOMPILED')
  })
})

describe('vitest runs of user code', () => {
  test('the plugin works under Vitest; a helper edit in another file is seen on the next run', () => {
    const a = app()
    const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
    const runVitest = () => {
      const out = execFileSync(process.execPath, [vitest, 'run', '--root', a.dir], { cwd: a.dir, encoding: 'utf8', env: { ...process.env, KILN_CACHE_DIR: join(a.dir, '.kiln-cache'), CI: '1' } })
      return JSON.parse(/RESULTS (.*)/.exec(out)![1]) as Results
    }
    const first = runVitest()
    a.edit('src/math.js', 'x > hi ? hi : x', 'x > hi ? hi - 0.5 : x')
    const second = runVitest()
    expect(second.viaChain.got).toEqual(second.viaChain.expected)
    expect(second.viaChain.got).not.toEqual(first.viaChain.got)
  })
})

describe('kernels left to run time', () => {
  test('a call whose options are not statically readable is a warning naming the kernel', async () => {
    const a = app()
    writeFileSync(join(a.dir, 'src/dynamic.js'), `import { kernel } from 'kiln'
const opts = { cache: true, signatures: ['(f64[]) => void'] }
export const dynamicKernel = kernel(function twice(a) { for (let i = 0; i < a.length; i++) a[i] *= 2 }, opts)
const a = new Float64Array([1, 2])
dynamicKernel(a)
console.log(JSON.stringify({ got: [...a], tier: dynamicKernel.tier('(f64[])') }))
`)
    const warnings: string[] = []
    await build({
      root: a.dir, configFile: join(a.dir, 'vite.config.js'), logLevel: 'warn',
      customLogger: { info() {}, warn: (m: string) => warnings.push(m), warnOnce: (m: string) => warnings.push(m), error() {}, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false },
      build: { ssr: 'src/dynamic.js', outDir: 'dist-dynamic', emptyOutDir: true },
    })
    expect(warnings.join('\n')).toMatch(/kernel `dynamicKernel` is left to run time: its options are not an object literal/)
    const out = JSON.parse(execFileSync(process.execPath, [join(a.dir, 'dist-dynamic/dynamic.js')], { encoding: 'utf8' }).trim().split('\n').at(-1)!)
    expect(out.got).toEqual([2, 4])
  })
})
