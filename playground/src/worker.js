// A module worker: its kernels are precompiled like the page's (the plugin builds workers too).
import { cases, ready, runCase } from './run.js'

await ready()
const { row } = runCase(cases.find((c) => c[0] === 'mandelbrot'))
postMessage({ tier: row.tier, same: row.same })
