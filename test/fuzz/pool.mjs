// Worker threads that run programs with a time limit: a program still running after it is
// reported as a hang and its worker is replaced. Workers are recycled now and then, so the
// compiled modules of thousands of programs do not pile up in one heap.

import { Worker } from 'node:worker_threads'

const RECYCLE_AFTER = 150

export class Pool {
  constructor(size, timeoutMs = 60_000) {
    this.timeoutMs = timeoutMs
    this.idle = []
    this.waiting = []
    this.size = size
    this.live = 0
    this.nextId = 0
  }

  spawn() {
    const w = new Worker(new URL('./worker.mjs', import.meta.url))
    w.jobs = 0
    w.unref()
    this.live++
    return w
  }

  async acquire() {
    if (this.idle.length) return this.idle.pop()
    if (this.live < this.size) return this.spawn()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  release(w) {
    if (w.jobs >= RECYCLE_AFTER) {
      void w.terminate()
      this.live--
      w = this.spawn()
    }
    const next = this.waiting.shift()
    if (next) next(w)
    else this.idle.push(w)
  }

  /** Runs a program's argument sets (all by default); resolves with runProgram's result or a hang. */
  async run(prog, sets) {
    const w = await this.acquire()
    const id = this.nextId++
    w.jobs++
    return new Promise((resolve) => {
      const done = (result, healthy) => {
        clearTimeout(timer)
        w.off('message', onMessage)
        w.off('error', onError)
        if (healthy) this.release(w)
        else {
          void w.terminate()
          this.live--
          this.release(this.spawn())
        }
        resolve(result)
      }
      const onMessage = (m) => { if (m.id === id) done(m.result, true) }
      const onError = (e) => done({ status: 'crash', detail: `the worker died: ${e?.stack ?? e}` }, false)
      const timer = setTimeout(() => done({ status: 'hang', detail: `no result within ${this.timeoutMs} ms` }, false), this.timeoutMs)
      w.on('message', onMessage)
      w.on('error', onError)
      w.postMessage({ id, prog, sets })
    })
  }

  async close() {
    const all = [...this.idle]
    this.idle = []
    await Promise.all(all.map((w) => w.terminate()))
  }
}
