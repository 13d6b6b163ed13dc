import { compileKernel } from '@kiln/compiler'
import binaryen from 'binaryen'
const src = process.argv[2]; const sig = process.argv[3]
const r = compileKernel({ source: src, signature: sig })
if (!r.ok) { console.log(r.diagnostics); process.exit(1) }
const m = binaryen.readBinary(r.wasm); console.log(m.emitText())
