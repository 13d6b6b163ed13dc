// Measuring helpers shared by the benchmarks.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length)

/**
 * Median ms of `run()` after warm-up; `reset()` restores the inputs outside the timing. Tiny
 * calls are timed in batches, so the clock's resolution does not decide the figure.
 */
export function timeCall(run, reset, { quick = false, budgetMs = quick ? 150 : 500 } = {}) {
  for (let i = 0; i < (quick ? 3 : 8); i++) {
    reset()
    run()
  }
  let batch = 1
  reset()
  {
    const t0 = performance.now()
    run()
    const once = performance.now() - t0
    if (once < 0.05) batch = Math.ceil(0.05 / Math.max(once, 1e-4))
  }
  const samples = []
  const started = performance.now()
  while (samples.length < 5 || (performance.now() - started < budgetMs && samples.length < 40)) {
    reset()
    const t0 = performance.now()
    for (let b = 0; b < batch; b++) run()
    samples.push((performance.now() - t0) / batch)
  }
  return median(samples)
}

/** Bit-identical: every element (or the value) the same under Object.is, NaN payloads aside. */
export const same = (a, b) => {
  if (ArrayBuffer.isView(a)) return ArrayBuffer.isView(b) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
  return Object.is(a, b)
}
