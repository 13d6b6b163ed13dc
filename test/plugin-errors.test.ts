// Error fixtures: each fails a real Vite build with its code, file, line and column, a frame,
// and what to do. Plus idempotence: the transform of its own output changes nothing.

import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import kiln from '@kiln/vite'
import { build, parseAst } from 'vite'
import { describe, expect, test } from 'vitest'

const dir = resolve(import.meta.dirname, 'fixtures/plugin/errors')

async function buildError(entry: string): Promise<string> {
  try {
    await build({ root: dir, configFile: false, logLevel: 'silent', plugins: [kiln({ cacheDir: join(dir, '..', '..', '..', '.tmp', 'errors-cache') })], build: { ssr: entry, write: false } })
  } catch (e) {
    return String((e as Error).message)
  }
  throw new Error(`${entry} built without an error`)
}

/** `file:line:column` (1-based) of `needle` in a fixture, moved `skip` characters on. */
function where(file: string, needle: string, skip = 0): string {
  const text = readFileSync(join(dir, file), 'utf8')
  const at = text.indexOf(needle) + skip
  const before = text.slice(0, at).split('\n')
  return `${join(dir, file)}:${before.length}:${before.at(-1)!.length + 1}`
}

describe('build errors', () => {
  test('a non-constant global', async () => {
    const m = await buildError('not-constant.js')
    expect(m).toContain(`${where('not-constant.js', '*= scale', 3)}: KILN_NOT_CONSTANT: \`scale\` cannot be folded into the kernel: a \`let\` that is reassigned`)
    expect(m).toContain(`declared at ${where('not-constant.js', 'scale = 1')}`)
    expect(m).toContain('pass `scale` as an argument')
    expect(m).toMatch(/> +9 \|.*a\[i\] \*= scale\n +\| +\^{5}/)
  })

  test('a browser global', async () => {
    const m = await buildError('browser-global.js')
    expect(m).toContain(`${where('browser-global.js', 'devicePixelRatio')}: KILN_NOT_CONSTANT: \`devicePixelRatio\` is not a module constant or helper`)
    expect(m).toMatch(/\^{16}/)
  })

  test('an object imported as a constant', async () => {
    const m = await buildError('object-constant.js')
    expect(m).toContain(`${where('object-constant.js', '*= CONFIG', 3)}: KILN_NOT_CONSTANT: \`CONFIG\` cannot be folded into the kernel: its value is an object`)
    expect(m).toContain(`declared at ${where('object-config.js', '{ gain')}`)
  })

  test('an unsupported construct', async () => {
    const m = await buildError('unsupported.js')
    expect(m).toContain(`${where('unsupported.js', '{ total')}: KILN_OBJECT: object literals are outside the kernel language`)
    expect(m).toMatch(/> +4 \| +const o = \{ total: 0 \}\n +\| +\^{12}/)
  })

  test('an unresolvable import', async () => {
    const m = await buildError('unresolved.js')
    expect(m).toContain(`${where('unresolved.js', 'clamp(')}: KILN_UNRESOLVED_IMPORT: cannot resolve \`./no-such-module.js\``)
    expect(m).toMatch(/> +5 \|/)
  })
})

describe('TypeScript sources', () => {
  test('an error in a TypeScript helper points at the .ts file as written', async () => {
    const m = await buildError('typescript.ts')
    expect(m).toContain(`${where('typescript-helper.ts', '{ value: x }')}: KILN_OBJECT`)
    expect(m).toMatch(/> +4 \|   const box: Box = \{ value: x \}/)
  })

  test('an error in a TypeScript kernel module points at its own source, types and all', async () => {
    const m = await buildError('typescript-own.ts')
    expect(m).toContain(`${where('typescript-own.ts', '[a[0], a[1]]')}: KILN_OBJECT`)
    expect(m).toMatch(/> +6 \|   const pair: \[number, number\] = \[a\[0\], a\[1\]\]/)
  })
})

describe('idempotence', () => {
  test('transforming already-transformed output changes nothing', async () => {
    const plugin = kiln({ cacheDir: join(dir, '..', '..', '..', '.tmp', 'idem-cache'), report: false })
    plugin.configResolved({ root: resolve(dir, '../app'), command: 'serve' })
    const file = resolve(dir, '../app/src/filters.js')
    const ctx = {
      resolve: async (source: string, importer: string) => ({ id: resolve(importer, '..', source), external: false }),
      addWatchFile: () => {}, warn: (w: unknown) => { throw new Error(String(w)) }, error: (e: unknown) => { throw e },
      parse: (code: string) => parseAst(code),
    }
    ;(plugin.buildStart as (this: unknown) => void).call({ addWatchFile: () => {} })
    const transform = (plugin.transform as unknown as { handler: (this: unknown, code: string, id: string) => Promise<{ code: string } | null> }).handler
    const once = await transform.call(ctx, readFileSync(file, 'utf8'), file)
    expect(once).not.toBeNull()
    expect(once!.code).toContain('__kiln:')
    const twice = await transform.call(ctx, once!.code, file)
    expect(twice).toBeNull()
  })
})
