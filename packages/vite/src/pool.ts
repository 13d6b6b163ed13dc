// Compiles for a cold build on every core: the main thread compiles, and worker threads take a
// job whenever they are idle. Loading the compiler costs a worker ~0.4 s of CPU, so workers
// start only once a build has shown it has many kernels to compile; a warm build loads no
// compiler at all.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { CompileInput, CompileResult } from '@kiln/compiler'

/** Compiles done on the main thread before workers are worth starting. */
const WORKERS_AFTER = 24

export class CompilePool {
  private workers: { worker: Worker; busy: boolean; ready: boolean }[] = []
  private pending = new Map<number, (r: CompileResult) => void>()
  private next = 0
  private started = false
  private compiled = 0
  private compiler: Promise<typeof import('@kiln/compiler')> | null = null

  /**
   * Workers besides the main thread. On two cores a worker measured slower (the bundler's own
   * threads already use the second core), so workers start from four cores; KILN_COMPILE_WORKERS
   * overrides.
   */
  constructor(private readonly size = Number(process.env.KILN_COMPILE_WORKERS ?? (availableParallelism() >= 4 ? Math.min(availableParallelism(), 8) - 1 : 0))) {}

  private start(): void {
    this.started = true
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(new URL('./compileWorker.js', import.meta.url))
      const slot = { worker, busy: false, ready: true }
      worker.on('message', (m: { id: number; result: CompileResult }) => {
        slot.busy = false
        this.pending.get(m.id)?.(m.result)
        this.pending.delete(m.id)
      })
      worker.on('error', () => {
        slot.ready = false
      })
      worker.unref()
      this.workers.push(slot)
    }
  }

  /** Compiles on an idle worker, else here. */
  async compile(input: CompileInput): Promise<CompileResult> {
    if (!this.started && ++this.compiled > WORKERS_AFTER) this.start()
    const idle = this.workers.find((w) => w.ready && !w.busy)
    if (!idle) {
      const { compileKernel } = await (this.compiler ??= import('@kiln/compiler'))
      return compileKernel(input)
    }
    idle.busy = true
    const id = this.next++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      idle.worker.postMessage({ id, input })
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
    this.workers = []
    this.started = false
  }
}
