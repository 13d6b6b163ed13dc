// Debian's Chromium driven by playwright-core (browsers cannot be downloaded here).

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium'

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** A browser with its own profile directory (IndexedDB persists across page loads in it). */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: flags, headless: true })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/**
 * Serves a built Vite app with `vite preview` on 127.0.0.1, opens it in Chromium, waits for each
 * named global to be set (by the page or a worker's message), and returns their values with every
 * URL the page and its workers requested.
 */
export async function visitPreview(app: { root: string; configFile?: string | false }, globals: string[]): Promise<{ values: Record<string, unknown>; requests: string[] }> {
  const { preview } = await import('vite')
  const server = await preview({ ...app, logLevel: 'error', preview: { host: '127.0.0.1', port: 0 } })
  const browser = await launchBrowser()
  try {
    const page = await browser.context.newPage()
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(server.resolvedUrls!.local[0])
    const values: Record<string, unknown> = {}
    for (const name of globals) {
      await page.waitForFunction((n) => (window as unknown as Record<string, unknown>)[n] !== undefined, name, { timeout: 60_000 })
      values[name] = await page.evaluate((n) => (window as unknown as Record<string, unknown>)[n], name)
    }
    return { values, requests }
  } finally {
    await browser.close()
    await server.close()
  }
}

/** The compiler's chunks in a client build (binaryen makes them the only ones of megabytes). */
export function compilerChunks(assetsDir: string): string[] {
  return readdirSync(assetsDir).filter((f) => f.endsWith('.js') && statSync(join(assetsDir, f)).size > 5_000_000)
}
