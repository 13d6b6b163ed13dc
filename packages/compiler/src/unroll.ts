// Small counted loops are emitted unrolled: `for (let k = -2; k <= 2; k++) …` becomes five
// copies of the body, each after `k` is set to its constant, so binaryen folds the index
// arithmetic (`WEIGHTS[k + 2]`, `x + k`) and no loop branch is left. Only innermost loops with
// a constant trip count of at most MAX_TRIPS, a small body, no break, continue or labelled
// block inside, and a counter the body does not assign qualify: copies of such a body are
// independent code with the same meaning, iteration by iteration.

import type { Expr, ForStmt, Stmt } from './ast.js'
import type { ResolvedFunction } from './resolve.js'

const MAX_TRIPS = 8
/** Statements and expressions in the body, at most (code size grows by the trip count). */
const MAX_BODY_NODES = 80

export interface UnrollPlan {
  /** The counter (a local of the function). */
  v: number
  /** Its value in each copy of the body, in order. */
  values: number[]
  /** Its value after the loop. */
  end: number
}

function constantInt(e: Expr | undefined | null): number | null {
  if (!e) return null
  if (e.kind === 'Num') return Number.isInteger(e.value) && Math.abs(e.value) < 2 ** 30 ? e.value : null
  if (e.kind === 'Unary' && e.op === '-' && e.arg.kind === 'Num') {
    const v = -e.arg.value
    return Number.isInteger(v) && Math.abs(v) < 2 ** 30 && !Object.is(v, -0) ? v : null
  }
  return null
}

/** Statement and expression nodes of a body, or Infinity when it holds something unrolling cannot copy. */
function size(st: Stmt): number {
  switch (st.kind) {
    case 'For': case 'While': case 'DoWhile': case 'Break': case 'Continue': return Infinity
    case 'Block': return st.label ? Infinity : st.body.reduce((n, x) => n + size(x), 1)
    case 'If': return 1 + exprSize(st.test) + size(st.then) + (st.else ? size(st.else) : 0)
    case 'Let': return st.decls.reduce((n, d) => n + exprSize(d.init), 1)
    case 'ExprStmt': return 1 + exprSize(st.expr)
    case 'Return': return 1 + (st.value ? exprSize(st.value) : 0)
    case 'Empty': return 1
  }
}

function exprSize(e: Expr): number {
  switch (e.kind) {
    case 'Num': case 'Bool': case 'Name': case 'Member': return 1
    case 'Index': return 1 + exprSize(e.index)
    case 'Call': return e.args.reduce((n, a) => n + exprSize(a), 1)
    case 'Unary': return 1 + exprSize(e.arg)
    case 'Binary': case 'Logical': return 1 + exprSize(e.left) + exprSize(e.right)
    case 'Cond': return 1 + exprSize(e.test) + exprSize(e.then) + exprSize(e.else)
    case 'Assign': return 1 + exprSize(e.target) + exprSize(e.value)
    case 'Update': return 1 + exprSize(e.target)
    case 'Seq': return e.exprs.reduce((n, x) => n + exprSize(x), 1)
  }
}

/** How to unroll `loop`, or null when it does not qualify. */
export function unrollPlan(loop: ForStmt, func: ResolvedFunction): UnrollPlan | null {
  const init = loop.init
  if (init?.kind !== 'Let' || init.decls.length !== 1) return null
  const v = func.decls.get(init.decls[0])
  const from = constantInt(init.decls[0].init)
  if (v === undefined || from === null) return null
  const test = loop.test
  if (test?.kind !== 'Binary' || (test.op !== '<' && test.op !== '<=')) return null
  if (test.left.kind !== 'Name' || func.names.get(test.left)?.kind !== 'var' || (func.names.get(test.left) as { id: number }).id !== v) return null
  const bound = constantInt(test.right)
  if (bound === null) return null
  const u = loop.update
  const steps = u?.kind === 'Update' && u.op === '++' && u.target.kind === 'Name'
    ? u.target
    : u?.kind === 'Assign' && u.op === '+=' && u.target.kind === 'Name' && constantInt(u.value) === 1 ? u.target : null
  if (!steps || (func.names.get(steps) as { id?: number } | undefined)?.id !== v) return null
  const last = test.op === '<' ? bound - 1 : bound
  const trips = last - from + 1
  if (trips < 1 || trips > MAX_TRIPS) return null
  if (func.assignedInBody.get(loop)?.has(v)) return null
  if (size(loop.body) > MAX_BODY_NODES) return null
  return { v, values: Array.from({ length: trips }, (_, i) => from + i), end: last + 1 }
}
