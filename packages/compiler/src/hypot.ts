// `Math.hypot(...)` as wasm instructions, with V8's own algorithm (src/builtins/math.tq): the
// largest magnitude, Infinity before NaN before 0, then a Kahan-compensated sum of squares of
// the arguments divided by it, `sqrt(sum) * max`. Every step is one IEEE operation, so the result
// is V8's bit for bit (test/speed.test.ts checks it against Math.hypot in Node and Chromium);
// the host call it replaces is not one V8 calls directly from wasm, and cost ~15 ns a call.

import binaryen from 'binaryen'

type Ref = binaryen.ExpressionRef

export interface HypotLowering {
  m: binaryen.Module
  /** A new f64 local of the function. */
  addLocal(): number
}

/** Math.hypot of f64 arguments, each evaluated once, in order. */
export function inlineHypot({ m, addLocal }: HypotLowering, args: Ref[]): Ref {
  const f64 = binaryen.f64
  const local = (): { index: number; set: (ref: Ref) => Ref; get: () => Ref } => {
    const index = addLocal()
    return { index, set: (ref) => m.local.set(index, ref), get: () => m.local.get(index, f64) }
  }
  const temp = (ref: Ref): { set: Ref; get: () => Ref } => {
    const l = local()
    return { set: l.set(ref), get: l.get }
  }
  if (args.length === 0) return m.f64.const(0)
  const values = args.map(temp)
  const abs = values.map((v) => temp(m.f64.abs(v.get())))
  // max over the non-NaN magnitudes (a NaN is never greater); any NaN argument noted apart.
  const max = local()
  const setMax = abs.map((a) => max.set(m.select(m.f64.gt(a.get(), max.get()), a.get(), max.get())))
  const nan = values.map((v) => m.f64.ne(v.get(), v.get())).reduce((x, y) => m.i32.or(x, y))
  const sum = local()
  const compensation = local()
  const kahan: Ref[] = []
  for (const a of abs) {
    const n = temp(m.f64.div(a.get(), max.get()))
    const summand = temp(m.f64.sub(m.f64.mul(n.get(), n.get()), compensation.get()))
    const preliminary = temp(m.f64.add(sum.get(), summand.get()))
    kahan.push(n.set, summand.set, preliminary.set,
      compensation.set(m.f64.sub(m.f64.sub(preliminary.get(), sum.get()), summand.get())),
      sum.set(preliminary.get()))
  }
  return m.block(null, [
    ...values.map((v) => v.set), ...abs.map((a) => a.set), max.set(m.f64.const(0)), ...setMax,
    m.if(m.f64.eq(max.get(), m.f64.const(Infinity)), m.f64.const(Infinity),
      m.if(nan, m.f64.const(NaN),
        m.if(m.f64.eq(max.get(), m.f64.const(0)), m.f64.const(0),
          m.block(null, [sum.set(m.f64.const(0)), compensation.set(m.f64.const(0)), ...kahan, m.f64.mul(m.f64.sqrt(sum.get()), max.get())], f64)))),
  ], f64)
}
