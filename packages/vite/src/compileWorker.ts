// A worker thread that compiles kernels for a cold build: loads the compiler once, then answers
// each input with { result, ms }, in order.

import { parentPort } from 'node:worker_threads'
import { compileKernel, type CompileInput } from '@kiln/compiler'

parentPort!.on('message', (input: CompileInput) => {
  const t0 = performance.now()
  const result = compileKernel(input)
  parentPort!.postMessage({ result, ms: performance.now() - t0 })
})
