// The playground page: runs every kernel against plain JS, draws two of them, and starts a
// module worker that runs a kernel from its own precompiled artifact.
import { HEIGHT, WIDTH, cases, runCase } from './run.js'

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
  const cells = [r.name, r.tier, r.same ? 'yes' : 'NO', r.jsMs.toFixed(2), r.wasmMs.toFixed(2), `${(r.jsMs / r.wasmMs).toFixed(2)}×`]
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
