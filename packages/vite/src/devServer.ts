// The dev server's artifact middleware, under one prefix (`<base>@kiln/`):
//   GET  wasm/<key>.wasm  the module this server compiled (or read from the store) for that key:
//                         application/wasm, ETag from the key, Cache-Control: no-cache;
//   POST compile          { id, signature } from a page calling a signature nobody declared:
//                         compiled here (the page never loads the compiler), answered with its artifact.
// Every other path under the prefix, and every key this server did not produce, is a 404.

import type { IncomingMessage, ServerResponse } from 'node:http'

export const PREFIX = '@kiln/'
const wasmPath = /^wasm\/([0-9a-f]{64})\.wasm$/

export type CompileRequestHandler = (id: string, signature: string) => Promise<{ status: number; body: unknown }>

export class ArtifactServer {
  /** Only keys this server produced are ever served. */
  private artifacts = new Map<string, Uint8Array>()

  constructor(private base: string, private compile: CompileRequestHandler) {}

  url(key: string): string {
    return `${this.base}${PREFIX}wasm/${key}.wasm`
  }

  get compileUrl(): string {
    return `${this.base}${PREFIX}compile`
  }

  add(key: string, wasm: Uint8Array): void {
    this.artifacts.set(key, wasm)
  }

  has(key: string): boolean {
    return this.artifacts.has(key)
  }

  /** Connect middleware: answers everything under the prefix, passes anything else on. */
  handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const path = this.pathUnderPrefix(req.url ?? '')
    if (path === null) return next()
    if (path === 'compile' && req.method === 'POST') {
      void this.answerCompile(req, res)
      return
    }
    const m = wasmPath.exec(path)
    const wasm = m && (req.method === 'GET' || req.method === 'HEAD') ? this.artifacts.get(m[1]) : undefined
    if (!m || !wasm) {
      res.statusCode = 404
      res.setHeader('Content-Type', 'text/plain')
      res.end('not a Kiln artifact of this server\n')
      return
    }
    const etag = `"${m[1]}"`
    res.setHeader('ETag', etag)
    res.setHeader('Cache-Control', 'no-cache')
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304
      res.end()
      return
    }
    res.statusCode = 200
    res.setHeader('Content-Type', 'application/wasm')
    res.setHeader('Content-Length', String(wasm.length))
    res.end(req.method === 'HEAD' ? undefined : wasm)
  }

  /** The path after the prefix (query dropped), or null when the request is not for us. Raw `..` stays in and so matches nothing. */
  private pathUnderPrefix(url: string): string | null {
    const path = url.split('?')[0]
    for (const start of new Set([`${this.base}${PREFIX}`, `/${PREFIX}`])) if (path.startsWith(start)) return path.slice(start.length)
    return null
  }

  private async answerCompile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 400
    let body: unknown = { error: 'expected JSON { "id": "<module>#<binding>", "signature": "(f64[]) => f64" }' }
    try {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of req) {
        size += (chunk as Buffer).length
        if (size > 64 * 1024) throw new Error('request too large')
        chunks.push(chunk as Buffer)
      }
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; signature?: unknown }
      if (typeof request.id === 'string' && typeof request.signature === 'string') ({ status, body } = await this.compile(request.id, request.signature))
    } catch (e) {
      if (!(e instanceof SyntaxError) && (e as Error).message !== 'request too large') {
        status = 500
        body = { error: String((e as Error).message ?? e) }
      }
    }
    res.statusCode = status
    res.setHeader('Content-Type', 'application/json')
    res.setHeader('Cache-Control', 'no-store')
    res.end(JSON.stringify(body))
  }
}
