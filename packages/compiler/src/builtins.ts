// Module-level functions the lowering calls for JS operations wasm has no instruction for:
// ToInt32, the exact `%` and Math.round. Binaryen inlines them where they are small.

import binaryen from 'binaryen'

/** ToInt32, the exact `%` and Math.round as module functions (binaryen inlines them). */
export function addRuntimeHelpers(m: binaryen.Module, wanted: Set<string>): void {
  const { f64, i32 } = binaryen
  const x = (): number => m.local.get(0, f64)
  if (wanted.has('toInt32')) {
    // Fast path for |x| < 2^63 (trunc_sat then wrap gives x mod 2^32); else NaN/±Infinity → 0,
    // and huge finite values (integers) reduce exactly with floor division by 2^32.
    const two32 = m.f64.const(4294967296)
    const reduced = m.f64.sub(x(), m.f64.mul(m.f64.floor(m.f64.div(x(), two32)), m.f64.const(4294967296)))
    m.addFunction('kiln.toInt32', f64, i32, [], m.block(null, [
      // A trapping conversion (it cannot trap behind this guard) costs less than a saturating one.
      m.if(m.f64.lt(m.f64.abs(x()), m.f64.const(9223372036854775808)), m.return(m.i32.wrap(m.i64.trunc_s.f64(x())))),
      m.if(m.f64.ne(m.f64.sub(x(), x()), m.f64.const(0)), m.return(m.i32.const(0))),
      m.return(m.i32.trunc_u_sat.f64(reduced)),
    ], i32))
  }
  if (wanted.has('fmod')) addFmod(m)
  if (wanted.has('round')) {
    // JS Math.round: floor(x) + (x - floor(x) >= 0.5), keeping the sign of a zero result.
    const fl = (): number => m.local.get(1, f64)
    const r = (): number => m.local.get(2, f64)
    m.addFunction('kiln.round', f64, f64, [f64, f64], m.block(null, [
      m.local.set(1, m.f64.floor(x())),
      m.local.set(2, m.select(m.f64.ge(m.f64.sub(x(), fl()), m.f64.const(0.5)), m.f64.add(fl(), m.f64.const(1)), fl())),
      m.return(m.select(m.f64.eq(r(), m.f64.const(0)), m.f64.copysign(m.f64.const(0), x()), r())),
    ], f64))
  }
}


/**
 * JS `%` on numbers is IEEE fmod: exact, with the dividend's sign. Integer operands (below
 * 2^53) take the i64 remainder; anything else calls the host's `%`. (A bit-level long division
 * in wasm, musl's algorithm, measured slower than that call: 18 ns against 14 ns.)
 */
function addFmod(m: binaryen.Module): void {
  const { f64, i64 } = binaryen
  m.addFunctionImport('kiln.hostMod', 'kiln', 'mod', binaryen.createType([f64, f64]), f64)
  const x = (): number => m.local.get(0, f64)
  const y = (): number => m.local.get(1, f64)
  const ix = (): number => m.local.get(2, i64)
  const iy = (): number => m.local.get(3, i64)
  const r = (): number => m.local.get(4, i64)
  const limit = m.f64.const(9007199254740992)
  m.addFunction('kiln.fmod', binaryen.createType([f64, f64]), f64, [i64, i64, i64], m.block(null, [
    // Both integers below 2^53 and a nonzero divisor: the i64 remainder, with JS's sign for 0.
    m.if(
      m.i32.and(
        m.i32.and(m.f64.lt(m.f64.abs(x()), limit), m.f64.lt(m.f64.abs(y()), m.f64.const(9007199254740992))),
        m.i32.and(m.f64.eq(m.f64.trunc(x()), x()), m.i32.and(m.f64.eq(m.f64.trunc(y()), y()), m.f64.ne(y(), m.f64.const(0)))),
      ),
      m.block(null, [
        m.local.set(2, m.i64.trunc_s.f64(x())),
        m.local.set(3, m.i64.trunc_s.f64(y())),
        m.local.set(4, m.i64.rem_s(ix(), iy())),
        m.return(m.if(m.i64.eqz(r()), m.f64.copysign(m.f64.const(0), x()), m.f64.convert_s.i64(r()))),
      ]),
    ),
    m.return(m.call('kiln.hostMod', [x(), y()], f64)),
  ], f64))
}
