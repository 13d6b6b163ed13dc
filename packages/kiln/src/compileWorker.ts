// A worker thread that compiles kernels (see pool.ts): loads the compiler once, then answers
// each input with { result, ms }, in order.

import { parentPort } from 'node:worker_threads'
import { compileKernel, type CompileInput } from '@kiln/compiler'

parentPort!.on('message', (input: CompileInput) => {
  const t0 = performance.now()
  try {
    const result = compileKernel(input)
    parentPort!.postMessage({ result, ms: performance.now() - t0 })
  } catch (error) {
    // A compiler bug: the job fails with its message, the worker lives on.
    parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) })
  }
})
