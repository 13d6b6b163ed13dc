// A fuzz worker: runs the programs it is sent, one at a time (a hang is ended from outside).

import { parentPort } from 'node:worker_threads'
import { runProgram } from './run.mjs'

parentPort.on('message', async ({ id, prog, sets }) => {
  let result
  try {
    result = await runProgram(prog, sets)
  } catch (e) {
    result = { status: 'crash', detail: `the runner threw: ${e?.stack ?? e}` }
  }
  parentPort.postMessage({ id, result })
})
