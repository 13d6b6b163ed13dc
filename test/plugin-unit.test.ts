// The plugin's pure pieces, without a bundler: discovery, folding, dependency resolution over
// an in-memory module graph.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { codeOutside, describeChange, kernelOnlyFunctions, ordinaryImportSources } from '../packages/vite/src/kernelIndex.js'
import { ModuleCache, ModuleSyntaxError } from '../packages/vite/src/moduleCache.js'
import { collectDependencies, DependencyError } from '../packages/vite/src/deps.js'
import { findKernels, mayHaveKernels } from '../packages/vite/src/discover.js'
import { readModule, type ModuleInfo } from '../packages/vite/src/moduleInfo.js'
// The pool from the build output: its workers load the compiled worker module beside it.
import { CompilePool } from 'kiln/pool'
import { artifactPlaceholder, placeArtifacts, relativeUrl, type Artifact } from '../packages/vite/src/emit.js'

describe('discovery', () => {
  test('finds kernel calls through aliases and namespaces, and only kiln\'s', () => {
    const code = `
      import { kernel as k } from 'kiln'
      import * as K from 'kiln'
      import { kernel } from 'somewhere-else'
      function plain(a) { return a }
      export const one = k(plain, { cache: true, signatures: ['(f64) => f64'] })
      export const two = K.kernel((a) => a + 1, { cache: true })
      export const three = kernel((a) => a, { cache: true })
      export const four = k(function named(a) { return a }, opts)
    `
    expect(mayHaveKernels(code)).toBe(true)
    const sites = findKernels(readModule('/m.js', code))
    expect(sites.map((s) => [s.binding, s.cache, s.signatures, s.dynamic])).toEqual([
      ['one', true, ['(f64) => f64'], null],
      ['two', true, [], null],
      ['four', false, [], 'its options are not an object literal'],
    ])
    expect(sites[0].fn.type).toBe('FunctionDeclaration')
    expect(mayHaveKernels('const kernel = 1')).toBe(false)
  })
})

function graph(files: Record<string, string>) {
  const modules = new Map(Object.entries(files).map(([id, code]) => [id, readModule(id, code)]))
  const host = {
    load: async (source: string, importer: string): Promise<ModuleInfo | null> => {
      const id = new URL(source, `file://${importer}`).pathname
      return modules.get(id) ?? null
    },
  }
  return { modules, host }
}

async function depsOf(files: Record<string, string>, entry = '/main.js') {
  const { modules, host } = graph(files)
  const info = modules.get(entry)!
  const [site] = findKernels(info)
  return collectDependencies(site.fn, info, host)
}

describe('dependencies and folding', () => {
  test('named, default and namespace imports, re-export chains, export *, cycles', async () => {
    const deps = await depsOf({
      '/main.js': `import { kernel } from 'kiln'
        import { b } from './chain.js'
        import d from './def.js'
        import * as NS from './ns.js'
        import { LIMIT } from './cyc1.js'
        export const k = kernel((x) => b(x) + d(x) + NS.f(x) + LIMIT + NS.K, { cache: true })`,
      '/chain.js': `export * from './chain2.js'`,
      '/chain2.js': `export { a as b } from './a.js'`,
      '/a.js': `import { helper } from './helper.js'\nexport function a(x) { return helper(x) * 2 }`,
      '/helper.js': `export const helper = (x) => x + 1`,
      '/def.js': `export default function (x) { return x - 1 }`,
      '/ns.js': `export function f(x) { return x * 3 }\nexport const K = Math.max(1, 2) + 0.5`,
      '/cyc1.js': `import { BASE } from './cyc2.js'\nexport const LIMIT = BASE * 2`,
      '/cyc2.js': `import { LIMIT } from './cyc1.js'\nexport const BASE = 21\nexport function useLimit() { return LIMIT }`,
    })
    expect(Object.keys(deps.helpers).sort()).toEqual(['NS$f', 'b', 'd', 'helper'])
    expect(deps.source).toContain('NS$f(x)')
    expect(deps.source).toContain('NS$K')
    expect(deps.helpers.b).toContain('helper(x) * 2')
    expect(deps.constants).toEqual({ LIMIT: 42, NS$K: 2.5 })
    expect(deps.files.sort()).toEqual(['/a.js', '/chain.js', '/chain2.js', '/cyc1.js', '/cyc2.js', '/def.js', '/helper.js', '/main.js', '/ns.js'])
  })

  test('folds arithmetic, Math, conditionals and arrays; refuses what is not constant', async () => {
    const deps = await depsOf({
      '/main.js': `import { kernel } from 'kiln'
        const A = [1, 2 ** 3, -0]
        const B = Math.PI / 2 > 1 ? Math.sqrt(16) : 0
        const C = (1 << 4) | 3
        export const k = kernel((x) => A[0] + B + C + x, { cache: true })`,
    })
    expect(deps.constants).toEqual({ A: [1, 8, -0], B: 4, C: 19 })
    for (const [decl, why] of [
      ['let S = 1; S = 2', 'a `let` that is reassigned'],
      ['const S = Date.now()', 'its value is a call result'],
      ["const S = 'x'", 'its value is a string literal'],
      ['const S = new Float64Array(2)', 'its value is `new Float64Array`'],
    ] as const) {
      const error = await depsOf({ '/main.js': `import { kernel } from 'kiln'\n${decl}\nexport const k = kernel((x) => x + S, { cache: true })` }).catch((e) => e)
      expect(error).toBeInstanceOf(DependencyError)
      expect((error as DependencyError).problem.code).toBe('KILN_NOT_CONSTANT')
      expect((error as DependencyError).problem.message).toContain(why)
    }
  })

  test('one name for two different things is a conflict', async () => {
    const error = await depsOf({
      '/main.js': `import { kernel } from 'kiln'\nimport { h } from './a.js'\nconst s = 1\nexport const k = kernel((x) => h(x) + s, { cache: true })`,
      '/a.js': `const s = 2\nexport function h(x) { return x * s }`,
    }).catch((e) => e)
    expect((error as DependencyError).problem.code).toBe('KILN_DEP_CONFLICT')
  })
})

describe('compile pool', () => {
  const input = (k: number) => ({
    source: `function scale(a) { for (let i = 0; i < a.length; i++) a[i] = a[i] * ${k} + 1 }`,
    name: `scale${k}`, deps: {}, constants: {}, signature: '(f64[]) => void',
  })

  test('worker threads compile exactly what the main thread compiles', async () => {
    const here = new CompilePool(0)
    const workers = new CompilePool(2)
    try {
      const jobs = [1, 2, 3, 4, 5].map(input)
      const [a, b] = await Promise.all([Promise.all(jobs.map((j) => here.compile(j))), Promise.all(jobs.map((j) => workers.compile(j)))])
      for (const [i, r] of b.entries()) {
        expect(r.result.ok).toBe(true)
        expect(r.ms).toBeGreaterThan(0)
        expect(Buffer.from((r.result as { wasm: Uint8Array }).wasm)).toEqual(Buffer.from((a[i].result as { wasm: Uint8Array }).wasm))
      }
    } finally {
      await Promise.all([here.close(), workers.close()])
    }
  })

  test('a worker that dies hands its job to the main thread', async () => {
    const pool = new CompilePool(1)
    try {
      const pending = pool.compile(input(7))
      // The only worker is gone before it answers: the job still completes.
      await (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0].worker.terminate()
      const r = await pending
      expect(r.result.ok).toBe(true)
      const again = await pool.compile(input(8))
      expect(again.result.ok).toBe(true)
    } finally {
      await pool.close()
    }
  })
})

describe('artifact placement', () => {
  const wasm = (n: number) => new Uint8Array([0, 0x61, 0x73, 0x6d, n])
  const artifacts = new Map<string, Artifact>([
    ['a'.repeat(64), { key: 'a'.repeat(64), binding: 'blur', wasm: wasm(1), uses: [{ id: 'src/x.js#blur', signature: '(f64[]) => void' }, { id: 'src/y.js#blur', signature: '(f64[]) => void' }] }],
    ['b'.repeat(64), { key: 'b'.repeat(64), binding: 'scale', wasm: wasm(2), uses: [{ id: 'src/x.js#scale', signature: '(f32[]) => void' }] }],
  ])
  const code = `const x = [{ url: ${artifactPlaceholder('a'.repeat(64))} }, { url: ${artifactPlaceholder('b'.repeat(64))} }, { url: ${artifactPlaceholder('a'.repeat(64))} }]`

  test('a chunk\'s artifacts go into one pack; every kernel that shares an artifact is in the manifest', () => {
    const emitted: [string, Uint8Array][] = []
    const r = placeArtifacts(code, 'assets/index-abc.js', 'chunk', { artifact: (k) => artifacts.get(k) ?? null, emit: (name, source) => (emitted.push([name, source]), 'assets/kernels-xyz.kiln') })!
    expect(emitted).toHaveLength(1)
    expect([...emitted[0][1]]).toEqual([...wasm(1), ...wasm(2)])
    expect(r.placed.map((p) => [p.id, p.offset, p.length])).toEqual([['src/x.js#blur', 0, 5], ['src/y.js#blur', 0, 5], ['src/x.js#scale', 5, 5]])
    const text = r.out.toString()
    expect(text).not.toContain('__KILN_ASSET__')
    expect(text.match(/new URL\("\.\/kernels-xyz\.kiln", import\.meta\.url\)\.href, offset: (\d+), length: 5/g)).toHaveLength(3)
  })

  test('the kernel layout emits one .wasm per artifact; URLs are relative to the chunk', () => {
    const names: string[] = []
    const r = placeArtifacts(code, 'nested/dir/main.js', 'kernel', { artifact: (k) => artifacts.get(k) ?? null, emit: (name) => (names.push(name), `assets/${name.replace('.wasm', '-h.wasm')}`) })!
    expect(names).toEqual(['blur.wasm', 'scale.wasm'])
    expect(r.out.toString()).toContain('new URL("../../assets/blur-h.wasm", import.meta.url).href, offset: 0, length: 5')
    expect(relativeUrl('main.js', 'assets/a.wasm')).toBe('./assets/a.wasm')
    expect(placeArtifacts('no placeholders', 'main.js', 'chunk', { artifact: () => null, emit: () => '' })).toBeNull()
    expect(() => placeArtifacts(code, 'main.js', 'chunk', { artifact: () => null, emit: () => '' })).toThrow(/did not compile/)
  })
})

describe('the dev index: which edits only kernels can see', () => {
  const code = `
    import { kernel } from 'kiln'
    import { clamp } from './color.js'
    import { GAIN, SCALE } from './config.js'
    import * as R from './ramp.js'
    import './side-effect.js'
    export { lerp } from './lerp.js'
    function declaredOnly(x) { return clamp(x, 0, 1) * GAIN }
    export function twin(x) { return R.ramp(x) }
    export const a = kernel(declaredOnly, { cache: true })
    export const b = kernel(twin, { cache: true })
    export const c = kernel(function inline(x) { return x * SCALE }, { cache: true })
    document.title = String(SCALE)
  `
  const info = readModule('/m.js', code)
  const sites = findKernels(info)

  test('kernel-only functions: inline ones and declared ones nothing else names', () => {
    const only = kernelOnlyFunctions(info, sites)
    expect(only.map((fn) => fn.id?.name)).toEqual(['declaredOnly', 'inline'])
  })

  test('ordinary imports: used outside kernel-only functions, side effects and re-exports', () => {
    const ordinary = ordinaryImportSources(info, kernelOnlyFunctions(info, sites))
    // clamp is used only inside declaredOnly; SCALE also by ordinary code; R by an exported twin.
    expect([...ordinary].sort()).toEqual(['./config.js', './lerp.js', './ramp.js', './side-effect.js', 'kiln'])
  })

  test('the code outside kernel-only functions ignores edits inside them', () => {
    const only = kernelOnlyFunctions(info, sites)
    const edited = code.replace('x * SCALE', 'x * SCALE + 1')
    const editedInfo = readModule('/m.js', edited)
    expect(codeOutside(edited, kernelOnlyFunctions(editedInfo, findKernels(editedInfo)))).toBe(codeOutside(code, only))
    const outsideEdit = code.replace('String(SCALE)', 'String(SCALE + 1)')
    const outsideInfo = readModule('/m.js', outsideEdit)
    expect(codeOutside(outsideEdit, kernelOnlyFunctions(outsideInfo, findKernels(outsideInfo)))).not.toBe(codeOutside(code, only))
  })

  test('why a kernel changed, in a few words', () => {
    const deps = { source: 'function k(x) { return f(x) * G }', helpers: { f: 'function f(x) { return x }' }, helperLocations: { f: { id: '/app/src/f.js', line: 1, column: 0 } }, constants: { G: 1.5, W: [1, 2] }, files: [] }
    const rel = (f: string): string => f.replace('/app/', '')
    expect(describeChange(undefined, deps, rel)).toBe('new')
    expect(describeChange(deps, { ...deps, helpers: { f: 'function f(x) { return -x }' } }, rel)).toBe('helper f (src/f.js)')
    expect(describeChange(deps, { ...deps, constants: { G: 2, W: [1, 3] } }, rel)).toBe('G 1.5 → 2, W [1, 2] → [1, 3]')
    expect(describeChange(deps, { ...deps, source: 'function k(x) { return f(x) }' }, rel)).toBe('body')
  })
})

describe('the module cache is keyed by what is on disk', () => {
  test('a module is parsed again only when its text changed; resolutions drop when files come or go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-'))
    try {
      const file = join(dir, 'm.js')
      writeFileSync(file, 'export const A = 1\n')
      const cache = new ModuleCache()
      const first = await cache.read(file)
      expect(await cache.read(file)).toBe(first)
      writeFileSync(file, 'export const A = 2\n')
      const second = await cache.read(file)
      expect(second).not.toBe(first)
      expect(second.code).toContain('A = 2')
      let resolves = 0
      const resolve = async (): Promise<string> => (resolves++, file)
      await cache.resolve('./m.js', join(dir, 'x.js'), resolve)
      await cache.resolve('./m.js', join(dir, 'y.js'), resolve)
      expect(resolves).toBe(1)
      cache.fileChanged(file, 'update')
      await cache.resolve('./m.js', join(dir, 'x.js'), resolve)
      expect(resolves).toBe(1)
      cache.fileChanged(join(dir, 'new.js'), 'create')
      await cache.resolve('./m.js', join(dir, 'x.js'), resolve)
      expect(resolves).toBe(2)
      writeFileSync(file, 'export const A = \n')
      await expect(cache.read(file)).rejects.toBeInstanceOf(ModuleSyntaxError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
