// The kernel AST: the subset of ESTree that the kernel language accepts, as unions keyed by
// `kind`. Every node carries its span (offsets into its own source text).

import type { Span } from './diagnostics.js'

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '**'
  | '|' | '&' | '^' | '<<' | '>>' | '>>>'
  | '<' | '<=' | '>' | '>=' | '==' | '!=' | '===' | '!=='
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '**' | '|' | '&' | '^' | '<<' | '>>' | '>>>'
export type UnaryOp = '-' | '+' | '!' | '~' | 'void'
export type AssignOp = '=' | `${ArithOp}=`

export interface NameRef { kind: 'Name'; name: string; span: Span }

export type Expr =
  | { kind: 'Num'; value: number; span: Span }
  | { kind: 'Bool'; value: boolean; span: Span }
  | NameRef
  /** `a.length`, or a Math constant such as `Math.PI`. */
  | { kind: 'Member'; object: NameRef; property: string; span: Span; propertySpan: Span }
  | { kind: 'Index'; object: NameRef; index: Expr; span: Span }
  /** A helper call `f(x)` (callee is a name) or a Math call `Math.sqrt(x)` (mathName set). */
  | { kind: 'Call'; callee: NameRef; mathName: string | null; args: Expr[]; span: Span }
  | { kind: 'Unary'; op: UnaryOp; arg: Expr; span: Span }
  | { kind: 'Binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'Logical'; op: '&&' | '||' | '??'; left: Expr; right: Expr; span: Span }
  | { kind: 'Cond'; test: Expr; then: Expr; else: Expr; span: Span }
  | { kind: 'Assign'; op: AssignOp; target: NameRef | IndexExpr; value: Expr; span: Span }
  | { kind: 'Update'; op: '++' | '--'; prefix: boolean; target: NameRef | IndexExpr; span: Span }
  | { kind: 'Seq'; exprs: Expr[]; span: Span }

export type IndexExpr = Extract<Expr, { kind: 'Index' }>
export type ExprKind = Expr['kind']

export interface Declarator { name: string; init: Expr; span: Span; nameSpan: Span }

export type Stmt =
  | { kind: 'Let'; constant: boolean; decls: Declarator[]; span: Span }
  | { kind: 'If'; test: Expr; then: Stmt; else: Stmt | null; span: Span }
  | { kind: 'For'; label: string | null; init: Stmt | null; test: Expr | null; update: Expr | null; body: Stmt; span: Span }
  | { kind: 'While'; label: string | null; test: Expr; body: Stmt; span: Span }
  | { kind: 'DoWhile'; label: string | null; body: Stmt; test: Expr; span: Span }
  | { kind: 'Break'; label: string | null; span: Span }
  | { kind: 'Continue'; label: string | null; span: Span }
  | { kind: 'Return'; value: Expr | null; span: Span }
  /** `label` is set for a labelled block, which `break label` leaves. */
  | { kind: 'Block'; body: Stmt[]; label?: string; span: Span }
  | { kind: 'ExprStmt'; expr: Expr; span: Span }
  | { kind: 'Empty'; span: Span }

export type LoopStmt = Extract<Stmt, { kind: 'For' | 'While' | 'DoWhile' }>
export type ForStmt = Extract<Stmt, { kind: 'For' }>
/** What a `break` leaves: a loop, or a labelled block. */
export type BreakTarget = LoopStmt | Extract<Stmt, { kind: 'Block' }>

export interface Param { name: string; span: Span }

export interface FunctionNode {
  name: string
  params: Param[]
  body: Stmt[]
  span: Span
}

/** Exhaustiveness check for `switch (node.kind)`. */
export function unreachable(value: never): never {
  throw new Error(`internal: unhandled node ${JSON.stringify(value)}`)
}

/** Whether an expression assigns anything (a loop test that does cannot vouch for its body). */
export function assignsInside(e: Expr): boolean {
  switch (e.kind) {
    case 'Assign': case 'Update': return true
    case 'Num': case 'Bool': case 'Name': case 'Member': return false
    case 'Index': return assignsInside(e.index)
    case 'Call': return e.args.some(assignsInside)
    case 'Unary': return assignsInside(e.arg)
    case 'Binary': case 'Logical': return assignsInside(e.left) || assignsInside(e.right)
    case 'Cond': return assignsInside(e.test) || assignsInside(e.then) || assignsInside(e.else)
    case 'Seq': return e.exprs.some(assignsInside)
    default: return unreachable(e)
  }
}

/** The operands of a chain of `&&` (each is true whenever the whole test is). */
export function conjuncts(e: Expr): Expr[] {
  return e.kind === 'Logical' && e.op === '&&' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e]
}
