// A seeded generator of well-typed kernels in the documented kernel language, with their
// argument sets. A program is plain data (sources, constants, signature, argument specs), so a
// failing one can be printed, rerun and reduced. `used` lists the constructs it contains.

const ELEMENTS = ['f64', 'f32', 'i32', 'u32', 'i16', 'u16', 'i8', 'u8', 'u8c']
const CTOR = { f64: 'Float64Array', f32: 'Float32Array', i32: 'Int32Array', u32: 'Uint32Array', i16: 'Int16Array', u16: 'Uint16Array', i8: 'Int8Array', u8: 'Uint8Array', u8c: 'Uint8ClampedArray' }
export const ARITH_OPS = ['+', '-', '*', '/', '%', '**', '|', '&', '^', '<<', '>>', '>>>']
export const COMPARE_OPS = ['<', '<=', '>', '>=', '==', '!=', '===', '!==']
export const MATH_1 = ['abs', 'ceil', 'floor', 'trunc', 'round', 'sqrt', 'sign', 'fround', 'clz32', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cbrt', 'cos', 'cosh', 'exp', 'expm1', 'log', 'log10', 'log1p', 'log2', 'sin', 'sinh', 'tan', 'tanh']
export const MATH_2 = ['imul', 'atan2', 'pow']
export const MATH_N = ['min', 'max', 'hypot']
const MATH_CONSTANTS = ['E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2']
const EDGE_NUMBERS = [0, -0, 1, -1, 2, 3, 0.5, -0.5, 1.5, -2.5, 7, 31, 32, 255, 256, 1023, 1024, 65535, 65536, 16777216, 2147483647, -2147483648, 2147483648, 4294967295, 4294967296, 1e9, -1e9, 1e308, -1e308, 5e-324, 2 ** 53, NaN, Infinity, -Infinity]
const SCALAR_TYPES = ['f64', 'i32', 'u32', 'f32']

/** splitmix32 over (seed, index): every program is reproducible on its own. */
export function rng(seed, index) {
  let s = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b) ^ 0x5bd1e995) >>> 0
  return () => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296
  }
}

function numberLiteral(v) {
  if (Object.is(v, -0)) return '(-0)'
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '(-Infinity)'
  return v < 0 ? `(${v})` : String(v)
}

export function generate(seed, index) {
  const r = rng(seed, index)
  const used = new Set()
  const pick = (xs) => xs[Math.floor(r() * xs.length)]
  const chance = (p) => r() < p
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1))
  const use = (tag) => used.add(tag)
  let names = 0
  const fresh = (p) => `${p}${names++}`

  // ---- the program's shape: parameters, constants, helpers, result
  const declared = chance(0.6)
  use(declared ? 'signature declared' : 'signature inferred')
  const params = []
  const nArrays = int(chance(0.1) ? 0 : 1, 3)
  for (let i = 0; i < nArrays; i++) params.push({ name: fresh('a'), kind: 'array', element: pick(ELEMENTS) })
  for (let i = int(0, 3); i > 0; i--) {
    const isBool = chance(0.2)
    params.push({ name: fresh(isBool ? 'b' : 'x'), kind: 'scalar', type: isBool ? 'bool' : declared ? pick(SCALAR_TYPES) : 'f64' })
  }
  // shuffle so arrays are not always first
  for (let i = params.length - 1; i > 0; i--) {
    const j = int(0, i)
    ;[params[i], params[j]] = [params[j], params[i]]
  }
  for (const p of params) use(p.kind === 'array' ? `array ${p.element}` : `param ${p.type}`)

  const constants = {}
  const constNums = []
  const constBools = []
  const constArrays = []
  for (let i = int(0, 3); i > 0; i--) {
    const kind = pick(['num', 'num', 'bool', 'array', 'array'])
    const name = fresh(kind === 'bool' ? 'FLAG' : kind === 'array' ? 'TABLE' : 'K')
    if (kind === 'num') { constants[name] = pick([...EDGE_NUMBERS.filter(Number.isFinite), 0.25, 3.75, 100]); constNums.push(name) }
    else if (kind === 'bool') { constants[name] = chance(0.5); constBools.push(name) }
    else {
      const len = chance(0.15) ? 0 : int(1, 9)
      constants[name] = Array.from({ length: len }, () => (chance(0.5) ? int(-5, 300) : pick(EDGE_NUMBERS)))
      constArrays.push({ name, length: len })
      use(len === 0 ? 'constant array (empty)' : 'constant array')
    }
    use(`constant ${kind}`)
  }

  const resultKind = pick(['num', 'num', 'num', 'bool', 'void', 'numOrUndef', 'boolOrUndef'])
  use(`result ${resultKind}`)

  // ---- expression and statement generation over a scope
  const helpers = []

  function makeGen(ctx) {
    // ctx: { arrays: [{name, element}], nums: [{name, mutable}], bools: [...], loopVars: [...], loops: [{label}], result, depth, helpersAvailable }
    const numVars = () => ctx.nums
    const allArrays = () => ctx.arrays

    function indexExpr(arr, d) {
      const lv = ctx.loopVars.filter((l) => l.array === arr.name)
      const anyLoop = ctx.loopVars
      const c = r()
      if (lv.length && c < 0.45) { use('index: loop counter'); return pick(lv).name }
      if (anyLoop.length && c < 0.6) { use('index: counter ± k'); return `${pick(anyLoop).name} ${pick(['+', '-'])} ${int(1, 3)}` }
      if (c < 0.7) { use('index: literal'); return pick(['0', '1', '2', '-1', '1.5', '5', 'NaN', '-0']) }
      if (c < 0.8 && arr.name) { use('index: length - k'); return `${arr.name}.length - ${int(0, 2)}` }
      if (c < 0.9) { use('index: | 0'); return `(${num(d + 1)}) | 0` }
      use('index: any number')
      return num(d + 1)
    }

    function arrayRead(d) {
      const pool = [...allArrays(), ...constArrays.map((c) => ({ ...c, isConst: true }))]
      if (!pool.length) return null
      const a = pick(pool)
      use(a.isConst ? 'read constant array' : 'array read')
      return `${a.name}[${indexExpr(a, d)}]`
    }

    function mathCall(d) {
      const c = r()
      if (c < 0.55) { const f = pick(MATH_1); use(`Math.${f}`); return `Math.${f}(${num(d + 1)})` }
      if (c < 0.75) { const f = pick(MATH_2); use(`Math.${f}`); return `Math.${f}(${num(d + 1)}, ${num(d + 1)})` }
      const f = pick(MATH_N)
      use(`Math.${f}`)
      const n = int(0, 3)
      return `Math.${f}(${Array.from({ length: n }, () => num(d + 1)).join(', ')})`
    }

    function helperCall(kind, d) {
      const hs = ctx.helpersAvailable.filter((h) => h.result === kind || (kind === 'num' && h.result === 'numOrUndef'))
      if (!hs.length) return null
      const h = pick(hs)
      use('helper call')
      const args = h.params.map((p) => (p.kind === 'array' ? (allArrays().length ? pick(allArrays()).name : null) : p.kind === 'bool' ? bool(d + 1) : num(d + 1)))
      if (args.some((a) => a === null)) return null
      // JS semantics for missing and extra arguments.
      if (h.params.length > 0 && h.params[h.params.length - 1].kind !== 'array' && chance(0.1)) { use('helper call, missing argument'); args.pop() }
      else if (chance(0.05)) { use('helper call, extra argument'); args.push(num(d + 1)) }
      return `${h.name}(${args.join(', ')})`
    }

    function num(d = 0) {
      const leaf = d >= 4 || chance(0.25 + d * 0.15)
      if (leaf) {
        const c = r()
        const vars = numVars()
        if (vars.length && c < 0.45) return pick(vars).name
        if (c < 0.6) { const a = arrayRead(d); if (a) return a }
        if (c < 0.68 && (allArrays().length || constArrays.length)) { use('.length'); return `${pick([...allArrays(), ...constArrays]).name}.length` }
        if (c < 0.72 && constNums.length) { use('constant number'); return pick(constNums) }
        if (c < 0.75) { use('Math constant'); return `Math.${pick(MATH_CONSTANTS)}` }
        use('number literal')
        return chance(0.5) ? String(int(0, 10)) : numberLiteral(pick(EDGE_NUMBERS))
      }
      const c = r()
      if (c < 0.3) {
        const op = pick(ARITH_OPS)
        use(`op ${op}`)
        // Now and then a boolean operand (ToNumber: 0 or 1).
        const operand = () => (chance(0.06) ? (use('boolean operand'), `(${bool(d + 1)})`) : num(d + 1))
        return `(${operand()} ${op} ${operand()})`
      }
      if (c < 0.38) { const op = pick(['-', '+', '~']); use(`unary ${op}`); return `(${op}(${num(d + 1)}))` }
      if (c < 0.48) return mathCall(d)
      if (c < 0.54) { use('?: number'); return `(${bool(d + 1)} ? ${num(d + 1)} : ${num(d + 1)})` }
      if (c < 0.58) { const op = pick(['||', '&&']); use(`number ${op}`); return `(${num(d + 1)} ${op} ${num(d + 1)})` }
      if (c < 0.62) { const a = arrayRead(d) ?? 'undefined'; use('??'); return `(${chance(0.15) ? 'undefined' : a} ?? ${num(d + 1)})` }
      if (c < 0.68) { const h = helperCall('num', d); if (h) return h }
      if (c < 0.74) {
        const vs = numVars().filter((v) => v.mutable)
        if (vs.length) {
          const v = pick(vs).name
          const op = pick(['=', '=', '+=', '-=', '*=', '/=', '%=', '|=', '&=', '^=', '<<=', '>>=', '>>>=', '**='])
          use(`assignment as value ${op}`)
          return `(${v} ${op} ${num(d + 1)})`
        }
      }
      if (c < 0.78) {
        const vs = numVars().filter((v) => v.mutable)
        if (vs.length) { const v = pick(vs).name; const f = pick(['++X', 'X++', '--X', 'X--']); use(`update ${f} as value`); return `(${f.replace('X', v)})` }
      }
      if (c < 0.81 && allArrays().length) { const a = pick(allArrays()); use('element store as value'); return `(${a.name}[${indexExpr(a, d)}] = ${num(d + 1)})` }
      if (c < 0.84 && allArrays().length) { const a = pick(allArrays()); const f = pick(['++X', 'X++', '--X', 'X--']); use(`element update ${f} as value`); return `(${f.replace('X', `${a.name}[${indexExpr(a, d)}]`)})` }
      if (c < 0.87) { use('sequence'); return `(${num(d + 1)}, ${num(d + 1)})` }
      if (c < 0.9) { use('boolean as number'); return `(${pick(['+', '-'])}${bool(d + 1)} + ${num(d + 1)})` }
      if (c < 0.92) { use('void'); return `(void ${num(d + 1)} ?? ${num(d + 1)})` }
      const a = arrayRead(d)
      return a ?? num(d + 1)
    }

    function bool(d = 0) {
      const leaf = d >= 4 || chance(0.3 + d * 0.15)
      if (leaf) {
        const c = r()
        if (ctx.bools.length && c < 0.4) return pick(ctx.bools).name
        if (constBools.length && c < 0.5) { use('constant boolean'); return pick(constBools) }
        if (c < 0.6) { use('boolean literal'); return chance(0.5) ? 'true' : 'false' }
      }
      const c = r()
      if (c < 0.45) { const op = pick(COMPARE_OPS); use(`compare ${op}`); return `(${num(d + 1)} ${op} ${num(d + 1)})` }
      if (c < 0.47) { const op = pick(['<', '<=', '>', '>=']); use('boolean relational'); return `(${bool(d + 1)} ${op} ${bool(d + 1)})` }
      if (c < 0.55) { use('!'); return `!${chance(0.5) ? bool(d + 1) : `(${num(d + 1)})`}` }
      if (c < 0.67) { const op = pick(['&&', '||']); use(`boolean ${op}`); return `(${bool(d + 1)} ${op} ${bool(d + 1)})` }
      if (c < 0.72) { use('?: boolean'); return `(${bool(d + 1)} ? ${bool(d + 1)} : ${bool(d + 1)})` }
      if (c < 0.77) { const op = pick(['===', '!==', '==', '!=']); use(`boolean ${op} boolean`); return `(${bool(d + 1)} ${op} ${bool(d + 1)})` }
      if (c < 0.8) { const op = pick(['===', '==', '!==']); use(`boolean ${op} number`); return `(${bool(d + 1)} ${op} ${num(d + 1)})` }
      if (c < 0.84) { use('=== undefined'); const a = arrayRead(d); if (a) return `(${a} ${pick(['===', '!==', '=='])} undefined)` }
      if (c < 0.9) { const h = helperCall('bool', d); if (h) return h }
      if (c < 0.93) {
        const vs = ctx.bools.filter((v) => v.mutable)
        if (vs.length) { use('boolean assignment as value'); return `(${pick(vs).name} = ${bool(d + 1)})` }
      }
      if (ctx.bools.length && chance(0.5)) return pick(ctx.bools).name
      use('boolean literal')
      return chance(0.5) ? 'true' : 'false'
    }

    return { num, bool, indexExpr }
  }

  /** A statement list of about `budget` statements, at nesting depth `depth`. */
  function statements(ctx, budget, depth, indent) {
    const g = makeGen(ctx)
    const out = []
    const pad = '  '.repeat(indent)
    while (budget > 0) {
      budget--
      const c = r()
      if (c < 0.17) {
        const constant = chance(0.25)
        const decls = []
        const added = []
        const count = chance(0.15) ? int(2, 3) : 1
        for (let n = count; n > 0; n--) {
          const isBool = chance(0.2)
          const list = isBool ? ctx.bools : ctx.nums
          // Sometimes shadow a local of an outer block (never one of this block: that is a
          // redeclaration), as a block's first statement (an earlier use would be in its dead zone).
          const outer = list.filter((v) => !ctx.own.has(v.name) && !v.name.startsWith('i') && !v.name.startsWith('f'))
          const shadow = n === count && depth > 0 && out.length === 0 && !ctx.headUsed && outer.length && chance(0.15) ? pick(outer).name : null
          const name = shadow ?? fresh(isBool ? 'c' : 'v')
          if (shadow) use('shadowing')
          // The initializer cannot read the name it declares (the temporal dead zone).
          // (Nor, in a later declarator, the name an earlier one shadowed: it may be a const now.)
          const hidden = new Set([name, ...added.map((x) => x.entry.name)])
          const initCtx = { ...ctx, nums: ctx.nums.filter((v) => !hidden.has(v.name)), bools: ctx.bools.filter((v) => !hidden.has(v.name)) }
          const gi = makeGen(initCtx)
          decls.push(`${name} = ${isBool ? gi.bool() : gi.num()}`)
          added.push({ list, entry: { name, mutable: !constant } })
        }
        for (const { list, entry } of added) {
          const at = list.findIndex((v) => v.name === entry.name)
          if (at >= 0) list.splice(at, 1)
          list.push(entry)
          ctx.own.add(entry.name)
        }
        use(constant ? 'const' : 'let')
        if (decls.length > 1) use('several declarators')
        out.push(`${pad}${constant ? 'const' : 'let'} ${decls.join(', ')};`)
        continue
      }
      if (c < 0.34) {
        const vs = ctx.nums.filter((v) => v.mutable)
        const bs = ctx.bools.filter((v) => v.mutable)
        if (vs.length && (chance(0.8) || !bs.length)) {
          const op = pick(['=', '+=', '-=', '*=', '/=', '%=', '**=', '|=', '&=', '^=', '<<=', '>>=', '>>>=', '||=', '&&=', '??=', '++', '--'])
          const v = pick(vs).name
          use(`assign ${op}`)
          out.push(op === '++' || op === '--' ? `${pad}${chance(0.5) ? v + op : op + v};` : `${pad}${v} ${op} ${g.num()};`)
          continue
        }
        if (bs.length) {
          const op = pick(['=', '||=', '&&=', '??='])
          use(`boolean assign ${op}`)
          out.push(`${pad}${pick(bs).name} ${op} ${g.bool()};`)
          continue
        }
      }
      if (c < 0.47 && ctx.arrays.length) {
        const a = pick(ctx.arrays)
        const op = pick(['=', '=', '=', '+=', '-=', '*=', '/=', '|=', '&=', '>>=', '>>>=', '||=', '&&=', '??=', '++', '--'])
        use(`element ${op}`)
        // ||=, &&= and ??= on an element take a name or number as index.
        const idx = op.length === 3 && op.endsWith('=') && op !== '>>=' && op !== '**=' && op !== '<<=' ? (ctx.loopVars.length && chance(0.7) ? pick(ctx.loopVars).name : String(int(0, 3))) : g.indexExpr(a, 1)
        out.push(op === '++' || op === '--' ? `${pad}${a.name}[${idx}]${op};` : `${pad}${a.name}[${idx}] ${op} ${g.num()};`)
        continue
      }
      if (c < 0.5 && ctx.loopDepth === 0 && ctx.arrays.length && chance(0.3)) {
        out.push(laneLoop(ctx, indent))
        continue
      }
      if (c < 0.58 && depth < 3) {
        use('if')
        const then = statements(scopeOf(ctx), int(1, 3), depth + 1, indent + 1)
        const hasElse = chance(0.4)
        if (hasElse) use('else')
        const els = hasElse ? statements(scopeOf(ctx), int(1, 3), depth + 1, indent + 1) : null
        out.push(`${pad}if (${g.bool()}) {\n${then}\n${pad}}${els ? ` else {\n${els}\n${pad}}` : ''}`)
        continue
      }
      if (c < 0.74 && depth < 3 && ctx.loopDepth < 2) {
        out.push(loop(ctx, depth, indent, g))
        continue
      }
      if (c < 0.78 && ctx.loops.length) {
        const l = pick(ctx.loops)
        const kind = chance(0.5) ? 'break' : 'continue'
        const labelled = l.label && chance(0.5)
        use(labelled ? `labelled ${kind}` : kind)
        // A jump goes inside an `if`, so the statements after it stay reachable.
        out.push(`${pad}if (${g.bool()}) ${kind}${labelled ? ` ${l.label}` : ''};`)
        continue
      }
      if (c < 0.81 && depth < 3) {
        const label = fresh('L')
        use('labelled block')
        const inner = scopeOf(ctx)
        inner.blocks = [...ctx.blocks, label]
        inner.headUsed = true
        const body = statements(inner, int(1, 3), depth + 1, indent + 1)
        out.push(`${pad}${label}: {\n${pad}  if (${g.bool()}) break ${label};\n${body}\n${pad}}`)
        continue
      }
      if (c < 0.83 && ctx.blocks.length) {
        use('break out of a labelled block')
        out.push(`${pad}if (${g.bool()}) break ${pick(ctx.blocks)};`)
        continue
      }
      if (c < 0.87 && depth > 0) {
        use('return inside')
        out.push(`${pad}if (${g.bool()}) ${returnStmt(ctx.result, g)};`)
        continue
      }
      if (c < 0.9) {
        const h = ctx.helpersAvailable.filter((x) => x.result === 'void')
        if (h.length) {
          const hh = pick(h)
          const args = hh.params.map((p) => (p.kind === 'array' ? (ctx.arrays.length ? pick(ctx.arrays).name : null) : p.kind === 'bool' ? g.bool() : g.num()))
          if (!args.includes(null)) { use('void helper call'); out.push(`${pad}${hh.name}(${args.join(', ')});`); continue }
        }
      }
      use('expression statement')
      out.push(`${pad}${chance(0.5) ? g.num() : g.bool()};`)
    }
    return out.join('\n')
  }

  function scopeOf(ctx) {
    return { ...ctx, nums: [...ctx.nums], bools: [...ctx.bools], own: new Set(), headUsed: false }
  }

  function returnStmt(result, g) {
    switch (result) {
      case 'num': return `return ${g.num()}`
      case 'bool': return `return ${g.bool()}`
      case 'void': return 'return'
      case 'numOrUndef': return chance(0.3) ? 'return' : `return ${g.num()}`
      case 'boolOrUndef': return chance(0.3) ? 'return' : `return ${g.bool()}`
    }
  }

  /**
   * A loop whose iterations are independent, in the shape simd128 lanes take (vectorize.ts):
   * element-wise reads, invariant scalars, Math, ternaries, an escape loop per iteration with a
   * break, masked stores at stride 1 or 2. Reads past an end, or of the array it writes at
   * another index, make it run one iteration at a time instead; the results must not differ.
   */
  function laneLoop(ctx, indent) {
    const pad = '  '.repeat(indent)
    const i = fresh('i')
    const over = pick(ctx.arrays)
    const target = pick(ctx.arrays)
    const locals = []
    use('lane loop')
    const read = () => {
      const a = pick(ctx.arrays)
      const k = chance(0.85) ? 0 : int(-1, 2)
      if (k !== 0) use('lane loop: neighbour read')
      return `${a.name}[${i}${k > 0 ? ` + ${k}` : k < 0 ? ` - ${-k}` : ''}]`
    }
    const leaf = () => {
      const c = r()
      if (c < 0.35) return read()
      if (c < 0.5 && locals.length) return pick(locals)
      if (c < 0.62 && ctx.nums.length) return pick(ctx.nums).name
      if (c < 0.66 && constArrays.length) { const t = pick(constArrays); use('lane loop: constant element'); return `${t.name}[${int(0, t.length)}]` }
      if (c < 0.7) return i
      return numberLiteral(pick(EDGE_NUMBERS))
    }
    const num = (d) => {
      const c = r()
      if (d > 2 || c < 0.3) return leaf()
      if (c < 0.65) return `(${num(d + 1)} ${pick(['+', '-', '*', '/'])} ${num(d + 1)})`
      if (c < 0.78) { const f = pick(['sqrt', 'abs', 'floor', 'ceil', 'trunc', 'sin', 'exp']); use(`lane loop: Math.${f}`); return `Math.${f}(${num(d + 1)})` }
      if (c < 0.86) return `Math.${pick(['min', 'max'])}(${num(d + 1)}, ${num(d + 1)})`
      use('lane loop: ?:')
      return `(${cond(d + 1)} ? ${num(d + 1)} : ${num(d + 1)})`
    }
    const cond = (d) => {
      const c = r()
      if (d > 2 || c < 0.6) return `(${num(d + 1)} ${pick(['<', '<=', '>', '>=', '===', '!=='])} ${num(d + 1)})`
      if (c < 0.85) return `(${cond(d + 1)} ${pick(['&&', '||'])} ${cond(d + 1)})`
      return `!${cond(d + 1)}`
    }
    const body = []
    const t = fresh('t')
    body.push(`const ${t} = ${num(0)};`)
    locals.push(t)
    if (chance(0.4)) {
      use('lane loop: escape loop')
      const n = fresh('n')
      const z = fresh('z')
      // The count is stepped in the loop's head, so the reducer, dropping lines, never makes it endless.
      body.push(`let ${n} = 0;`, `let ${z} = ${t};`)
      body.push(`for (; ${n} < ${int(0, 9)}; ${n}++) {`, `  ${z} = ${z} * ${z} * ${pick(['0.5', '-0.75', '1.25'])} + ${num(1)};`, `  if (${z} > 4 || ${z} < -4) break;`, '}')
      locals.push(n, z)
    }
    const stride = chance(0.7) ? 1 : 2
    if (stride === 2) use('lane loop: stride 2')
    const index = (k) => (stride === 1 ? i : `2 * ${i} + ${k}`)
    body.push(`${target.name}[${index(0)}] = ${num(0)};`)
    if (chance(0.5)) {
      use('lane loop: masked store')
      body.push(`if (${cond(0)}) ${target.name}[${index(stride - 1)}] = ${num(0)};`)
    }
    return `${pad}for (let ${i} = 0; ${i} < ${over.name}.length; ${i}++) {\n${body.map((b) => `${pad}  ${b}`).join('\n')}\n${pad}}`
  }

  function loop(ctx, depth, indent, g) {
    const pad = '  '.repeat(indent)
    const inner = scopeOf(ctx)
    inner.loopDepth = ctx.loopDepth + 1
    const label = chance(0.2) ? fresh('L') : null
    inner.loops = [...ctx.loops, { label }]
    const head = label ? `${label}: ` : ''
    const kind = pick(['for-up', 'for-up', 'for-down', 'for-step', 'for-const', 'while', 'do'])
    use(`loop ${kind}`)
    if (label) use('labelled loop')
    const i = fresh('i')
    // An inner loop over an array is bounded by a small count, so nests stay cheap.
    const arr = ctx.arrays.length && inner.loopDepth === 1 ? pick(ctx.arrays) : null
    const bound = arr ? `${arr.name}.length` : String(int(0, 8))
    const counter = { name: i, mutable: false, array: arr?.name }
    if (kind === 'for-up' || kind === 'for-step' || kind === 'for-const') {
      inner.nums.push(counter)
      inner.loopVars = [...ctx.loopVars, counter]
      const body = statements(inner, int(1, 4), depth + 1, indent + 1)
      const start = kind === 'for-const' ? String(int(0, 2)) : pick(['0', '0', '1'])
      const update = kind === 'for-step' ? pick([`${i} += 2`, `${i} = ${i} + 1`, `${i} = ${i} + 3`]) : pick([`${i}++`, `++${i}`, `${i} += 1`])
      const test = kind === 'for-const' ? `${i} < ${int(0, 6)}` : `${i} ${pick(['<', '<', '<='])} ${bound}${chance(0.2) ? ` && ${g.bool()}` : ''}`
      return `${pad}${head}for (let ${i} = ${start}; ${test}; ${update}) {\n${body}\n${pad}}`
    }
    if (kind === 'for-down') {
      counter.array = undefined
      inner.nums.push(counter)
      inner.loopVars = [...ctx.loopVars, counter]
      const body = statements(inner, int(1, 4), depth + 1, indent + 1)
      return `${pad}${head}for (let ${i} = ${bound} - 1; ${i} >= 0; ${i}${pick(['--', ' -= 1', ' = ' + i + ' - 1'])}) {\n${body}\n${pad}}`
    }
    // while and do…while run on fuel, so they always end.
    const fuel = fresh('f')
    inner.nums.push({ name: fuel, mutable: false })
    const body = statements(inner, int(1, 4), depth + 1, indent + 1)
    const cond = chance(0.6) ? ` && ${g.bool()}` : ''
    if (kind === 'while') return `${pad}let ${fuel} = ${int(0, 12)};\n${pad}${head}while (${fuel}-- > 0${cond}) {\n${body}\n${pad}}`
    return `${pad}let ${fuel} = ${int(0, 12)};\n${pad}${head}do {\n${body}\n${pad}} while (--${fuel} > 0${cond});`
  }

  // ---- helpers: each may call the ones before it
  for (let h = int(0, 2); h > 0; h--) {
    const name = fresh('h')
    const hparams = []
    for (let i = int(0, 3); i > 0; i--) hparams.push({ name: fresh('p'), kind: pick(['num', 'num', 'num', 'bool', 'array']) })
    const result = pick(['num', 'num', 'bool', 'void', 'numOrUndef'])
    const ctx = {
      arrays: hparams.filter((p) => p.kind === 'array').map((p) => ({ name: p.name, element: 'any' })),
      nums: hparams.filter((p) => p.kind === 'num').map((p) => ({ name: p.name, mutable: true })),
      bools: hparams.filter((p) => p.kind === 'bool').map((p) => ({ name: p.name, mutable: true })),
      loopVars: [], loops: [], blocks: [], loopDepth: 1, result, helpersAvailable: [...helpers], own: new Set(hparams.map((p) => p.name)),
    }
    const g = makeGen(ctx)
    // A function that may return nothing returns a value on one path at least (else it returns nothing).
    const head = result === 'numOrUndef' ? `  if (${g.bool()}) return ${g.num()};\n` : ''
    const body = head + statements(ctx, int(1, 4), 0, 1)
    const tail = result === 'void' || (result === 'numOrUndef' && chance(0.5)) ? '' : `\n  ${returnStmt(result, g)};`
    helpers.push({ name, params: hparams, result, source: `function ${name}(${hparams.map((p) => p.name).join(', ')}) {\n${body}${tail}\n}` })
    use(`helper returning ${result}`)
  }

  // ---- the kernel
  const kctx = {
    arrays: params.filter((p) => p.kind === 'array').map((p) => ({ name: p.name, element: p.element })),
    nums: params.filter((p) => p.kind === 'scalar' && p.type !== 'bool').map((p) => ({ name: p.name, mutable: chance(0.3) })),
    bools: params.filter((p) => p.kind === 'scalar' && p.type === 'bool').map((p) => ({ name: p.name, mutable: false })),
    loopVars: [], loops: [], blocks: [], loopDepth: 0, result: resultKind, helpersAvailable: helpers, own: new Set(params.map((p) => p.name)),
  }
  const g = makeGen(kctx)
  const head = resultKind === 'numOrUndef' ? `  if (${g.bool()}) return ${g.num()};\n` : resultKind === 'boolOrUndef' ? `  if (${g.bool()}) return ${g.bool()};\n` : ''
  const body = head + statements(kctx, int(2, 9), 0, 1)
  const fallsOff = resultKind === 'void' || ((resultKind === 'numOrUndef' || resultKind === 'boolOrUndef') && chance(0.5))
  if (fallsOff && resultKind !== 'void') use('falls off the end')
  const tail = fallsOff ? '' : `\n  ${returnStmt(resultKind, g)};`
  const kernelName = fresh('kernel')
  const kernelSource = `function ${kernelName}(${params.map((p) => p.name).join(', ')}) {\n${body}${tail}\n}`

  let signature = null
  if (declared) {
    const ps = params.map((p) => (p.kind === 'array' ? `${p.element}[]` : p.type)).join(', ')
    const res = { num: pick(['f64', 'f64', 'i32', 'u32', 'f32', null]), bool: pick(['bool', null]), void: pick(['void', null]), numOrUndef: pick(['f64', 'i32', null]), boolOrUndef: pick(['bool', null]) }[resultKind]
    signature = res ? `(${ps}) => ${res}` : `(${ps})`
    use(res ? `declared result ${res}` : 'declared without result')
  }

  // ---- argument sets: 8 per program
  const argSets = []
  for (let s = 0; s < 8; s++) {
    const set = { zeroCopy: chance(0.4), args: [] }
    if (set.zeroCopy) use('zero-copy arrays')
    params.forEach((p, i) => {
      if (p.kind === 'array') {
        const same = params.findIndex((q, j) => j < i && q.kind === 'array' && q.element === p.element)
        if (same >= 0 && chance(0.3)) { use('aliased arrays'); set.args.push({ alias: same }); return }
        const length = pick([0, 1, 2, 3, 4, 5, 8, 16, 17, 33, 64, 100, 257, 1000])
        use(`length ${length === 0 ? '0' : length < 10 ? '1-9' : length < 100 ? '10-99' : '100+'}`)
        set.args.push({ element: p.element, values: Array.from({ length }, () => elementValue(p.element)) })
      } else if (p.type === 'bool') {
        set.args.push({ value: chance(0.5) })
      } else {
        set.args.push({ value: scalarValue() })
      }
    })
    argSets.push(set)
  }

  function elementValue(element) {
    const c = r()
    if (element === 'f64' || element === 'f32') {
      if (c < 0.3) return pick(EDGE_NUMBERS)
      if (c < 0.6) return int(-10, 300)
      return (r() - 0.5) * 10 ** int(-3, 6)
    }
    const ranges = { i32: [-2147483648, 2147483647], u32: [0, 4294967295], i16: [-32768, 32767], u16: [0, 65535], i8: [-128, 127], u8: [0, 255], u8c: [0, 255] }[element]
    if (c < 0.2) return pick([ranges[0], ranges[1], 0, -1, 1])
    if (c < 0.7) return int(-3, 300)
    return ranges[0] + Math.floor(r() * (ranges[1] - ranges[0] + 1))
  }

  function scalarValue() {
    // Small integers hit the range variants ([0, 1024], [-1024, 1024], …); the rest the general module.
    const c = r()
    if (c < 0.35) return int(0, 20)
    if (c < 0.45) return int(-1024, 1024)
    if (c < 0.5) return int(-70000, 70000)
    if (c < 0.55) return int(0, 16777216)
    if (c < 0.85) return pick(EDGE_NUMBERS)
    return (r() - 0.5) * 10 ** int(-2, 4)
  }

  return {
    seed, index,
    kernel: kernelSource,
    helpers: helpers.map((h) => ({ name: h.name, source: h.source })),
    constants,
    signature,
    params: params.map((p) => ({ name: p.name, kind: p.kind, element: p.element, type: p.type })),
    argSets,
    used: [...used],
  }
}

export { CTOR }
