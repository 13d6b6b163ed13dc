// The playground page: once every kernel runs compiled code, runs each against its plain-JS
// twin, draws two of them, and starts a module worker that runs a kernel of its own. Under
// `vite dev` the artifacts come from the dev server (tier aot too). The plain twins share the
// kernels' helpers, so an edit to a helper or constant reloads the page and the table is
// computed again: a kernel left stale would show as a mismatch.
import { allocImageData, onHotSwap } from 'kiln'
import { tone } from './kernels/tone.js'
import { HEIGHT, WIDTH, cases, ready, runCase, testImage } from './run.js'

await Promise.all([ready(), tone.ready()])
window.__kilnReadyAt = performance.now()

const results = []
const outputs = {}
for (const c of cases) {
  const { row, args } = runCase(c)
  results.push(row)
  outputs[row.name] = args
}

function draw(id, px) {
  const ctx = document.getElementById(id).getContext('2d')
  ctx.putImageData(new ImageData(px, WIDTH, HEIGHT), 0, 0)
}
draw('image', outputs.blur[1])
draw('fractal', outputs.mandelbrot[0])

const body = document.querySelector('#results tbody')
for (const r of results) {
  const tr = document.createElement('tr')
  const cells = [r.name, r.tier, r.same ? 'yes' : r.tier === 'js' ? 'not compiled' : 'NO', r.jsMs.toFixed(2), r.wasmMs.toFixed(2), `${(r.jsMs / r.wasmMs).toFixed(2)}×`, r.zeroMs.toFixed(2), `${(r.jsMs / r.zeroMs).toFixed(2)}×`]
  cells.forEach((text, i) => {
    const td = document.createElement('td')
    td.textContent = text
    if (i >= 3) td.className = 'num'
    if (i === 2 && !r.same) td.className = 'bad'
    tr.append(td)
  })
  body.append(tr)
}
window.__playground = results

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
worker.onmessage = (e) => {
  document.getElementById('worker').textContent = `worker: mandelbrot ran as ${e.data.tier}, ${e.data.same ? 'same result as JS' : 'DIFFERENT FROM JS'}`
  window.__playgroundWorker = e.data
}

// The live panel: `tone` redrawn whenever the dev server swaps a kernel in. Its pixels live in
// kernel memory (allocImageData), so the kernel works on them in place and the canvas draws them
// without a copy: the zero-copy path an app takes for canvas work.
let swaps = 0
const toneImage = allocImageData(WIDTH, HEIGHT)
function drawTone() {
  const px = toneImage.data
  px.set(testImage())
  tone(px, 0.6)
  let sum = 0
  for (let i = 0; i < px.length; i++) sum += px[i]
  const ctx = document.getElementById('tone').getContext('2d')
  ctx.putImageData(toneImage, 0, 0)
  // The canvas shows exactly the pixels the kernel wrote in kernel memory.
  const shown = ctx.getImageData(0, 0, WIDTH, HEIGHT).data
  const drawn = shown.every((v, i) => v === px[i])
  document.getElementById('tone-info').textContent = `tone: ${tone.tier('(u8c[], f64) => void')}, checksum ${sum}, hot-swapped ${swaps} time(s)`
  window.__tone = { tier: tone.tier('(u8c[], f64) => void'), checksum: sum, swaps, drawn, at: performance.now() }
}
drawTone()
onHotSwap((ids, ms) => {
  swaps++
  window.__lastSwapMs = ms
  drawTone()
})
