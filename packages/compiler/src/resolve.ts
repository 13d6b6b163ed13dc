// Kernel AST + the names the program provides (helpers, constants, Math) → a binding for
// every name reference, the locals of each function, jump targets, and helper call graph.

import type { BreakTarget, Declarator, Expr, FunctionNode, LoopStmt, NameRef, Stmt } from './ast.js'
import { unreachable } from './ast.js'
import { diagnostic, type Diagnostic, type Span } from './diagnostics.js'
import { mathConstants, mathFunctions } from './math.js'

export type Binding =
  | { kind: 'var'; id: number }
  | { kind: 'helper'; name: string }
  | { kind: 'const'; name: string }
  | { kind: 'builtin'; value: number }
  | { kind: 'undefined' }
  | { kind: 'math' }

export interface VarInfo {
  id: number
  name: string
  constant: boolean
  isParam: boolean
  span: Span
  /** How many places assign it, the declaration (or parameter entry) included. */
  assignments: number
  /** The declaration's initializer, for `const n = a.length` style aliases. */
  init: Expr | null
}

export interface ResolvedFunction {
  name: string
  fn: FunctionNode
  vars: VarInfo[]
  names: Map<NameRef, Binding>
  /** Each break/continue → the loop (or, for `break label`, the labelled block) it leaves or continues. */
  jumps: Map<Stmt, BreakTarget>
  /** Loops and blocks that some `break` leaves (they can complete even with a constant-true test). */
  breakTargets: Set<BreakTarget>
  /** For each loop: ids of vars assigned anywhere inside it (test, update, body). */
  assignedInLoop: Map<LoopStmt, Map<number, number>>
  /** For each loop: ids of vars assigned inside its body only. */
  assignedInBody: Map<LoopStmt, Set<number>>
  /** Names of helpers this function calls directly. */
  calls: Set<string>
  /** The var each `let`/`const` declarator introduces. */
  decls: Map<Declarator, number>
}

export interface ProgramNames {
  helpers: ReadonlySet<string>
  constants: ReadonlySet<string>
}

interface Scope {
  vars: Map<string, number>
  /** Declared later in this block: referencing them now is a TDZ error. */
  pending: Set<string>
  parent: Scope | null
}

/** Resolves one function; diagnostics go to `out`. */
export function resolveNames(name: string, fn: FunctionNode, program: ProgramNames, out: Diagnostic[]): ResolvedFunction {
  const r: ResolvedFunction = {
    name, fn, vars: [], names: new Map(), jumps: new Map(), breakTargets: new Set(),
    assignedInLoop: new Map(), assignedInBody: new Map(), calls: new Set(), decls: new Map(),
  }
  const loops: { loop: LoopStmt; label: string | null; inBody: boolean }[] = []
  /** Labelled blocks around the statement being resolved, innermost last. */
  const labelledBlocks: Extract<Stmt, { kind: 'Block' }>[] = []
  const root: Scope = { vars: new Map(), pending: new Set(), parent: null }

  const declare = (scope: Scope, n: string, span: Span, constant: boolean, isParam: boolean, init: Expr | null): number => {
    const id = r.vars.length
    r.vars.push({ id, name: n, constant, isParam, span, assignments: 1, init })
    scope.vars.set(n, id)
    scope.pending.delete(n)
    return id
  }
  for (const p of fn.params) declare(root, p.name, p.span, false, true, null)

  const lookup = (scope: Scope, ref: NameRef): Binding | null => {
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (s.pending.has(ref.name)) {
        out.push(diagnostic('KILN_TDZ', `\`${ref.name}\` is used before its declaration`, ref.span, ['move the declaration above this use']))
        return null
      }
      const id = s.vars.get(ref.name)
      if (id !== undefined) return { kind: 'var', id }
    }
    if (program.helpers.has(ref.name)) return { kind: 'helper', name: ref.name }
    if (program.constants.has(ref.name)) return { kind: 'const', name: ref.name }
    if (ref.name === 'NaN') return { kind: 'builtin', value: NaN }
    if (ref.name === 'Infinity') return { kind: 'builtin', value: Infinity }
    if (ref.name === 'undefined') return { kind: 'undefined' }
    if (ref.name === 'Math') return { kind: 'math' }
    return null
  }

  const unknownName = (ref: NameRef, asCall: boolean): void => {
    if (asCall) {
      out.push(diagnostic('KILN_UNKNOWN_FUNCTION', `\`${ref.name}\` is not a known function`, ref.span, [
        `pass it as a helper: kernel(fn, { deps: { ${ref.name} } }) (the Vite plugin does this for imports)`,
      ]))
    } else {
      out.push(diagnostic('KILN_UNKNOWN_NAME', `\`${ref.name}\` is not defined in the kernel`, ref.span, [
        `declare it as a local, take it as a parameter, or pass a constant in deps: kernel(fn, { deps: { ${ref.name} } })`,
      ]))
    }
  }

  const markAssigned = (id: number): void => {
    r.vars[id].assignments++
    for (const l of loops) {
      const m = r.assignedInLoop.get(l.loop)!
      m.set(id, (m.get(id) ?? 0) + 1)
      if (l.inBody) r.assignedInBody.get(l.loop)!.add(id)
    }
  }

  const assignTarget = (scope: Scope, ref: NameRef): void => {
    const b = lookup(scope, ref)
    if (!b) {
      if (!scope.pending.has(ref.name)) unknownName(ref, false)
      return
    }
    r.names.set(ref, b)
    if (b.kind === 'var') {
      const v = r.vars[b.id]
      if (v.constant) {
        out.push(diagnostic('KILN_CONST_ASSIGN', `cannot assign to \`${ref.name}\` because it is a constant`, ref.span, [`declare it with \`let\` instead of \`const\``]))
      }
      markAssigned(b.id)
    } else {
      out.push(diagnostic('KILN_GLOBAL_ASSIGN', `cannot assign to \`${ref.name}\`: ${b.kind === 'math' ? 'Math' : 'module-scope values'} are read-only in a kernel`, ref.span, ['copy it into a local with `let` and change the local']))
    }
  }

  const expr = (scope: Scope, e: Expr): void => {
    switch (e.kind) {
      case 'Num':
      case 'Bool':
        return
      case 'Name': {
        const b = lookup(scope, e)
        if (!b) {
          if (!isPendingAnywhere(scope, e.name)) unknownName(e, false)
          return
        }
        if (b.kind === 'math') {
          out.push(diagnostic('KILN_OBJECT', '`Math` is an object; use one of its members, such as `Math.PI` or `Math.sqrt(x)`', e.span))
          return
        }
        if (b.kind === 'helper') {
          out.push(diagnostic('KILN_CLOSURE', `helper \`${e.name}\` can only be called, not used as a value`, e.span))
          return
        }
        r.names.set(e, b)
        return
      }
      case 'Member': {
        if (e.object.name === 'Math') {
          const b = lookup(scope, e.object)
          if (b?.kind === 'math') {
            r.names.set(e.object, b)
            if (!(e.property in mathConstants)) {
              const isFn = mathFunctions.has(e.property)
              out.push(diagnostic(isFn ? 'KILN_CLOSURE' : 'KILN_PROPERTY', isFn ? `\`Math.${e.property}\` can only be called` : `\`Math.${e.property}\` is not a Math constant`, e.propertySpan))
            }
            return
          }
        }
        if (e.property !== 'length') {
          out.push(diagnostic('KILN_PROPERTY', `property \`${e.object.name}.${e.property}\` is outside the kernel language`, e.propertySpan, ['only `array.length` and `Math` members can be read']))
          return
        }
        expr(scope, e.object)
        return
      }
      case 'Index':
        expr(scope, e.object)
        expr(scope, e.index)
        return
      case 'Call': {
        for (const a of e.args) expr(scope, a)
        if (e.mathName !== null) {
          const b = lookup(scope, e.callee)
          if (b?.kind !== 'math') {
            out.push(diagnostic('KILN_UNKNOWN_FUNCTION', `\`${e.callee.name}.${e.mathName}\` is not a known function`, e.span))
            return
          }
          r.names.set(e.callee, b)
          if (!mathFunctions.has(e.mathName)) {
            out.push(diagnostic('KILN_UNKNOWN_FUNCTION', `\`Math.${e.mathName}\` is not a Math function`, e.span, [`Math functions are ${[...mathFunctions.keys()].join(', ')}`]))
          }
          return
        }
        const b = lookup(scope, e.callee)
        if (!b) {
          if (!isPendingAnywhere(scope, e.callee.name)) unknownName(e.callee, true)
          return
        }
        if (b.kind !== 'helper') {
          out.push(diagnostic('KILN_UNKNOWN_FUNCTION', `\`${e.callee.name}\` is not a function`, e.callee.span, ['only helper functions passed in deps and Math functions can be called']))
          return
        }
        r.names.set(e.callee, b)
        r.calls.add(b.name)
        return
      }
      case 'Unary':
        expr(scope, e.arg)
        return
      case 'Binary':
      case 'Logical':
        expr(scope, e.left)
        expr(scope, e.right)
        return
      case 'Cond':
        expr(scope, e.test)
        expr(scope, e.then)
        expr(scope, e.else)
        return
      case 'Assign':
        if (e.target.kind === 'Name') {
          if (e.op !== '=') expr(scope, e.target)
          expr(scope, e.value)
          assignTarget(scope, e.target)
        } else {
          expr(scope, e.target)
          expr(scope, e.value)
        }
        return
      case 'Update':
        if (e.target.kind === 'Name') {
          expr(scope, e.target)
          assignTarget(scope, e.target)
        } else {
          expr(scope, e.target)
        }
        return
      case 'Seq':
        for (const x of e.exprs) expr(scope, x)
        return
      default:
        unreachable(e)
    }
  }

  const isPendingAnywhere = (scope: Scope, n: string): boolean => {
    for (let s: Scope | null = scope; s; s = s.parent) if (s.pending.has(n)) return true
    return false
  }

  const block = (parent: Scope, body: Stmt[]): void => {
    const scope: Scope = { vars: new Map(), pending: new Set(), parent }
    for (const s of body) if (s.kind === 'Let') for (const d of s.decls) scope.pending.add(d.name)
    for (const s of body) stmt(scope, s)
  }

  const findLoop = (s: Stmt, label: string | null, isContinue: boolean): BreakTarget | null => {
    for (let i = loops.length - 1; i >= 0; i--) {
      if (label === null || loops[i].label === label) return loops[i].loop
    }
    // `break label` may leave a labelled block (the parser rejects `continue` to one).
    const block = label !== null && !isContinue ? labelledBlocks.findLast((b) => b.label === label) : undefined
    if (block) return block
    out.push(diagnostic('KILN_STATEMENT', `\`${isContinue ? 'continue' : 'break'}\` outside a loop`, s.span))
    return null
  }

  const loop = (scope: Scope, l: LoopStmt, inner: () => void): void => {
    r.assignedInLoop.set(l, new Map())
    r.assignedInBody.set(l, new Set())
    loops.push({ loop: l, label: l.label, inBody: false })
    inner()
    loops.pop()
    void scope
  }

  const body = (scope: Scope, l: LoopStmt, s: Stmt): void => {
    loops[loops.length - 1].inBody = true
    stmt(scope, s)
    loops[loops.length - 1].inBody = false
    void l
  }

  const stmt = (scope: Scope, s: Stmt): void => {
    switch (s.kind) {
      case 'Let':
        for (const d of s.decls) {
          expr(scope, d.init)
          r.decls.set(d, declare(scope, d.name, d.nameSpan, s.constant, false, d.init))
        }
        return
      case 'If':
        expr(scope, s.test)
        stmt(scope, s.then)
        if (s.else) stmt(scope, s.else)
        return
      case 'For': {
        const forScope: Scope = { vars: new Map(), pending: new Set(), parent: scope }
        if (s.init?.kind === 'Let') for (const d of s.init.decls) forScope.pending.add(d.name)
        if (s.init) stmt(forScope, s.init)
        loop(forScope, s, () => {
          if (s.test) expr(forScope, s.test)
          body(forScope, s, s.body)
          if (s.update) expr(forScope, s.update)
        })
        return
      }
      case 'While':
        loop(scope, s, () => {
          expr(scope, s.test)
          body(scope, s, s.body)
        })
        return
      case 'DoWhile':
        loop(scope, s, () => {
          body(scope, s, s.body)
          expr(scope, s.test)
        })
        return
      case 'Break':
      case 'Continue': {
        const target = findLoop(s, s.label, s.kind === 'Continue')
        if (target) {
          r.jumps.set(s, target)
          if (s.kind === 'Break') r.breakTargets.add(target)
        }
        return
      }
      case 'Return':
        if (s.value) expr(scope, s.value)
        return
      case 'Block':
        if (s.label) labelledBlocks.push(s)
        block(scope, s.body)
        if (s.label) labelledBlocks.pop()
        return
      case 'ExprStmt':
        expr(scope, s.expr)
        return
      case 'Empty':
        return
      default:
        unreachable(s)
    }
  }

  // Parameters live in the function's outermost scope, as in JS.
  for (const s of fn.body) if (s.kind === 'Let') for (const d of s.decls) root.pending.add(d.name)
  for (const s of fn.body) stmt(root, s)
  return r
}

/** Finds a helper cycle reachable from `start`; returns the path or null. */
export function findRecursion(start: string, callsOf: (name: string) => ReadonlySet<string>): string[] | null {
  const state = new Map<string, 'active' | 'done'>()
  const path: string[] = []
  const visit = (n: string): string[] | null => {
    const s = state.get(n)
    if (s === 'active') return [...path.slice(path.indexOf(n)), n]
    if (s === 'done') return null
    state.set(n, 'active')
    path.push(n)
    for (const c of callsOf(n)) {
      const cycle = visit(c)
      if (cycle) return cycle
    }
    path.pop()
    state.set(n, 'done')
    return null
  }
  return visit(start)
}
