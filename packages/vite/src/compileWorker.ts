// A worker thread that compiles kernels for a cold build: loads the compiler once, then
// answers { id, input } messages with { id, result }.

import { parentPort } from 'node:worker_threads'
import { compileKernel, type CompileInput } from '@kiln/compiler'

parentPort!.on('message', (m: { id: number; input: CompileInput }) => {
  parentPort!.postMessage({ id: m.id, result: compileKernel(m.input) })
})
