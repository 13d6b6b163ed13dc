// Compiles on worker threads (Node), so the main thread never blocks on binaryen: the Vite
// plugin's cold builds (on two cores one worker compiles while the main thread bundles, hashes
// keys and writes the store: measured 11% faster than compiling on the main thread) and the
// runtime's compiles in Node (a timer keeps firing while a kernel compiles). Workers start on the
// first compile; a warm start starts none. KILN_COMPILE_WORKERS sets their number (0: compile on
// the main thread).

import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'

/** node:worker_threads, loaded with the first worker (a warm start that compiles nothing never loads it). */
const workerThreads = (): typeof import('node:worker_threads') => (process as unknown as { getBuiltinModule(id: 'node:worker_threads'): typeof import('node:worker_threads') }).getBuiltinModule('node:worker_threads')
import type { CompileInput, CompileResult } from '@kiln/compiler'

export interface Compiled {
  result: CompileResult
  /** Time spent compiling (not waiting for a worker). */
  ms: number
}

interface Job {
  input: CompileInput
  /** Nobody waits for it to exit: it does not keep the process alive (see `compile`). */
  background: boolean
  resolve: (c: Compiled) => void
  reject: (e: unknown) => void
}

interface Slot {
  worker: Worker
  job: Job | null
  alive: boolean
}

export function defaultWorkers(most = 7): number {
  const fromEnv = process.env.KILN_COMPILE_WORKERS
  if (fromEnv !== undefined && fromEnv !== '') return Math.min(most, Math.max(0, Math.floor(Number(fromEnv)) || 0))
  return Math.max(1, Math.min(availableParallelism() - 1, most))
}

export class CompilePool {
  private slots: Slot[] = []
  private queue: Job[] = []
  private started = false
  private compiler: Promise<typeof import('@kiln/compiler')> | null = null

  constructor(private readonly size = defaultWorkers()) {}

  /**
   * Compiles on a worker. A `background` compile (a range variant the runtime builds on its own
   * initiative) leaves the worker unreferenced: a script whose work is done exits instead of
   * waiting for it. Whoever awaits a result keeps the process alive meanwhile (k.ready() does).
   */
  compile(input: CompileInput, options: { background?: boolean } = {}): Promise<Compiled> {
    if (!this.started) this.start()
    if (!this.slots.some((s) => s.alive)) return this.compileHere(input)
    return new Promise((resolve, reject) => {
      this.queue.push({ input, background: options.background === true, resolve, reject })
      this.pump()
    })
  }

  /** Starts the workers now (each loads the compiler), so a dev server's first recompile does not wait for that. */
  warm(): void {
    if (!this.started) this.start()
  }

  async close(): Promise<void> {
    const slots = this.slots
    this.slots = []
    this.started = false
    for (const s of slots) s.alive = false
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  private start(): void {
    this.started = true
    for (let i = 0; i < this.size; i++) {
      const slot: Slot = { worker: new (workerThreads().Worker)(new URL('./compileWorker.js', import.meta.url)), job: null, alive: true }
      slot.worker.on('message', (m: Compiled | { error: string }) => {
        const job = slot.job
        slot.job = null
        this.updateRefs()
        if ('error' in m) job?.reject(new Error(m.error))
        else job?.resolve(m)
        this.pump()
      })
      // A worker that dies hands its job, and the queue if it was the last, to the main thread.
      const fail = (): void => {
        if (!slot.alive) return
        slot.alive = false
        const lost = slot.job ? [slot.job] : []
        slot.job = null
        if (!this.slots.some((s) => s.alive)) lost.push(...this.queue.splice(0))
        for (const job of lost) this.compileHere(job.input).then(job.resolve, job.reject)
      }
      slot.worker.on('error', fail)
      slot.worker.on('exit', fail)
      slot.worker.unref()
      this.slots.push(slot)
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (!slot.alive || slot.job) continue
      slot.job = this.queue.shift()!
      slot.worker.postMessage(slot.job.input)
    }
    this.updateRefs()
  }

  /**
   * A worker is referenced while the process waits for what it does: its own job, unless that
   * is a background one, or any job queued behind it that is not. Idle workers never are.
   */
  private updateRefs(): void {
    const waiting = this.queue.some((j) => !j.background)
    for (const slot of this.slots) {
      if (slot.job && (!slot.job.background || waiting)) slot.worker.ref()
      else slot.worker.unref()
    }
  }

  private async compileHere(input: CompileInput): Promise<Compiled> {
    const { compileKernel } = await (this.compiler ??= import('@kiln/compiler'))
    const t0 = performance.now()
    const result = compileKernel(input)
    return { result, ms: performance.now() - t0 }
  }
}
