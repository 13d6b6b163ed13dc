// The dev fixture (test/fixtures/dev/app) under a real Vite dev server: copies of the app, real
// file edits, the plain-JS oracle, and waiting for what a page or a watcher shows.

import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Logger, ViteDevServer } from 'vite'
import type { KilnPluginApi, UpdateSummary } from '@kiln/vite'

export const repoRoot = resolve(import.meta.dirname, '..', '..')
const fixture = join(repoRoot, 'test/fixtures/dev/app')

export interface Case { tier: string; value: number }
export type Cases = Record<string, Case>

export interface App {
  dir: string
  /**
   * Replaces `from` (which must be there) with `to` in a file of the app. Writes to one file are
   * spaced 500 ms apart: the file watcher (chokidar) can fold a second write that comes while it
   * is still looking at the first, and on a loaded machine that takes a while (a person does not
   * save one file twice that fast).
   */
  edit(file: string, from: string, to: string): Promise<void>
  read(file: string): string
}

/** A fresh copy of the dev fixture under `tmp`. */
export function copyApp(tmp: string, name: string): App {
  const dir = join(tmp, name)
  rmSync(dir, { recursive: true, force: true })
  cpSync(fixture, dir, { recursive: true })
  const lastWrite = new Map<string, number>()
  return {
    dir,
    async edit(file, from, to) {
      const path = join(dir, file)
      const wait = (lastWrite.get(path) ?? 0) + 500 - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      lastWrite.set(path, Date.now())
      const text = readFileSync(path, 'utf8')
      if (!text.includes(from)) throw new Error(`${file} has no ${JSON.stringify(from)}`)
      writeFileSync(path, text.replace(from, to))
    },
    read: (file) => readFileSync(join(dir, file), 'utf8'),
  }
}

let oracles = 0

/**
 * The expected values: the app's current `src/` run as plain JS in Node (a fresh copy each time,
 * so no module is cached, with `kernel` the identity function).
 */
export async function plainResults(app: App, tmp: string): Promise<Record<string, number>> {
  const dir = join(tmp, `oracle-${process.pid}-${oracles++}`)
  mkdirSync(dir, { recursive: true })
  cpSync(join(app.dir, 'src'), dir, { recursive: true })
  writeFileSync(join(dir, '__kiln_plain.js'), 'export const kernel = (fn) => fn\nexport const onHotSwap = () => {}\n')
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.js')) continue
    const path = join(dir, name)
    writeFileSync(path, readFileSync(path, 'utf8').replace(/from 'kiln'/g, "from './__kiln_plain.js'"))
  }
  const cases = (await import(pathToFileURL(join(dir, 'cases.js')).href)) as { compute(): Cases; computeSum(): Case }
  const values: Record<string, number> = Object.fromEntries(Object.entries(cases.compute()).map(([k, v]) => [k, v.value]))
  values.sum = cases.computeSum().value
  return values
}

/** A logger that keeps every line (Vite's own is silenced). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const warned = new Set<string>()
  const logger = {
    lines,
    hasWarned: false,
    info: (msg: string) => void lines.push(msg),
    warn: (msg: string) => {
      logger.hasWarned = true
      lines.push(msg)
    },
    warnOnce: (msg: string) => {
      if (!warned.has(msg)) logger.warn(msg)
      warned.add(msg)
    },
    error: (msg: string) => void lines.push(msg),
    clearScreen: () => {},
    hasErrorLogged: () => false,
  }
  return logger
}

/** Starts Vite's dev server on the app (127.0.0.1, a free port). */
export async function startDevServer(app: Pick<App, 'dir'>, logger = recordingLogger()): Promise<{ server: ViteDevServer; url: string; api: KilnPluginApi; logger: typeof logger }> {
  const { createServer } = await import('vite')
  const server = await createServer({ root: app.dir, configFile: join(app.dir, 'vite.config.js'), customLogger: logger, clearScreen: false, server: { host: '127.0.0.1', port: 0 } })
  await server.listen()
  const plugin = server.config.plugins.find((p) => p.name === 'kiln') as unknown as { api: KilnPluginApi }
  return { server, url: server.resolvedUrls!.local[0], api: plugin.api, logger }
}

/** Resolves with the next update summary the plugin reports for `file` (a path ending). */
export function nextUpdate(api: KilnPluginApi, file: string, timeoutMs = 15_000): Promise<UpdateSummary> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no kiln update for ${file} within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = api.onUpdate((s) => {
      if (!s.file.endsWith(file) || s.environment !== 'client') return
      clearTimeout(timer)
      off()
      resolve(s)
    })
  })
}

/** Polls `read` until `done` holds for its value (bounded in time); returns the last value. */
export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const started = Date.now()
  for (;;) {
    let value: T | undefined
    try {
      // A read the page never answers (it was replaced by a reload) is given up after 2 s.
      value = await Promise.race([read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('navigation: no answer')), 2000))])
      if (done(value)) return value
    } catch (e) {
      // A page in the middle of a reload has no context for a moment.
      if (!/context was destroyed|navigation/i.test(String(e))) throw e
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; last value: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Whether every case was served by compiled code and equals the plain-JS value. */
export function matches(cases: Cases, expected: Record<string, number>): boolean {
  return Object.entries(cases).every(([name, c]) => c.tier === 'aot' && Object.is(c.value, expected[name]))
}

/** Requests that would mean the page loaded the compiler (binaryen or the compiler's entry). */
export function compilerRequests(urls: string[]): string[] {
  return urls.filter((u) => /binaryen|@kiln_compiler|compiler\/dist\/(index|compile|emit)\.js/.test(u))
}
