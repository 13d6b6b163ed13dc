// Source text of one function → kernel AST, or diagnostics naming each construct that is
// outside the kernel language. acorn parses; this pass only keeps what the language has.

import { parseExpressionAt } from 'acorn'
import type { AssignOp, BinaryOp, Declarator, Expr, FunctionNode, IndexExpr, NameRef, Param, Stmt } from './ast.js'
import { diagnostic, type Diagnostic, type DiagnosticCode, type SourceText, type Span } from './diagnostics.js'
import { isSsrNamespace } from './ssr.js'

// acorn's ESTree nodes, read structurally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EsNode = any

const binaryOps = new Set<string>(['+', '-', '*', '/', '%', '**', '|', '&', '^', '<<', '>>', '>>>', '<', '<=', '>', '>=', '==', '!=', '===', '!=='])
const arithOps = new Set<string>(['+', '-', '*', '/', '%', '**', '|', '&', '^', '<<', '>>', '>>>'])

export interface ParsedFunction {
  fn: FunctionNode | null
  diagnostics: Diagnostic[]
  /** Statements and expressions converted: the function's size, which the compiler limits. */
  nodes: number
}

/** Parses one function (expression, arrow or declaration text) into the kernel AST. */
export function parseFunction(source: SourceText): ParsedFunction {
  const diagnostics: Diagnostic[] = []
  let root: EsNode
  try {
    root = parseExpressionAt(source.code, 0, { ecmaVersion: 'latest', sourceType: 'module' })
  } catch (error) {
    const e = error as SyntaxError & { pos?: number }
    const pos = e.pos ?? 0
    const hint = /^\s*[A-Za-z_$][\w$]*\s*\(/.test(source.code) && !/^\s*(async\s+)?function\b/.test(source.code)
      ? ['object-method shorthand (`name(a) { ... }`) is not a standalone function; pass `function name(a) { ... }` instead']
      : []
    return {
      fn: null,
      diagnostics: [/stack space/.test(e.message)
        ? diagnostic('KILN_TOO_LARGE', 'the function is nested too deeply to parse', { file: source.file, start: pos, end: pos + 1 }, ['split long expressions, or use a loop'])
        : diagnostic(hint.length ? 'KILN_NOT_FUNCTION' : 'KILN_SYNTAX', e.message.replace(/\s*\(\d+:\d+\)$/, ''), { file: source.file, start: pos, end: pos + 1 }, hint)],
      nodes: 0,
    }
  }
  const rest = source.code.slice(root.end).trim()
  if (rest !== '' && rest !== ';') {
    diagnostics.push(diagnostic('KILN_NOT_FUNCTION', 'unexpected text after the function', { file: source.file, start: root.end, end: source.code.length }))
  }
  const converter = new Converter(source.file, diagnostics)
  const fn = converter.convertRoot(root)
  return { fn, diagnostics, nodes: converter.nodes }
}

class Converter {
  nodes = 0
  constructor(readonly file: string, readonly diagnostics: Diagnostic[]) {}

  span(node: EsNode): Span {
    return { file: this.file, start: node.start, end: node.end }
  }

  fail(code: DiagnosticCode, message: string, node: EsNode, notes: string[] = []): void {
    this.diagnostics.push(diagnostic(code, message, this.span(node), notes))
  }

  /** A placeholder that lets conversion go on after an error, so every error is reported. */
  bad(code: DiagnosticCode, message: string, node: EsNode, notes: string[] = []): Expr {
    this.fail(code, message, node, notes)
    return { kind: 'Num', value: 0, span: this.span(node) }
  }

  convertRoot(node: EsNode): FunctionNode | null {
    if (node.type === 'ClassExpression') {
      this.fail('KILN_OBJECT', 'a class is not a kernel; pass a function', node)
      return null
    }
    if (node.type !== 'FunctionExpression' && node.type !== 'ArrowFunctionExpression') {
      this.fail('KILN_NOT_FUNCTION', `expected a function, found ${describe(node)}`, node)
      return null
    }
    if (node.async) this.fail('KILN_ASYNC', 'async functions are outside the kernel language; kernels are synchronous', node)
    if (node.generator) this.fail('KILN_ASYNC', 'generator functions are outside the kernel language', node)
    const params: Param[] = []
    for (const p of node.params) {
      if (p.type === 'Identifier') params.push({ name: p.name, span: this.span(p) })
      else if (p.type === 'AssignmentPattern') this.fail('KILN_ARGUMENTS', 'default parameter values are outside the kernel language', p, ['pass every argument explicitly'])
      else if (p.type === 'RestElement') this.fail('KILN_ARGUMENTS', 'rest parameters are outside the kernel language', p)
      else this.fail('KILN_ARGUMENTS', 'destructured parameters are outside the kernel language', p)
    }
    const body: Stmt[] = node.body.type === 'BlockStatement'
      ? this.statements(node.body.body)
      : [{ kind: 'Return', value: this.expr(node.body), span: this.span(node.body) }]
    return { name: node.id?.name ?? '', params, body, span: this.span(node) }
  }

  statements(nodes: EsNode[]): Stmt[] {
    return nodes.map((n) => this.stmt(n))
  }

  stmt(node: EsNode, label: string | null = null): Stmt {
    this.nodes++
    const span = this.span(node)
    switch (node.type) {
      case 'VariableDeclaration': {
        if (node.kind === 'var') {
          this.fail('KILN_STATEMENT', '`var` is outside the kernel language', node, ['declare locals with `let` or `const`'])
          return { kind: 'Empty', span }
        }
        if (node.kind !== 'let' && node.kind !== 'const') {
          this.fail('KILN_STATEMENT', `\`${node.kind}\` declarations are outside the kernel language`, node)
          return { kind: 'Empty', span }
        }
        const decls: Declarator[] = []
        for (const d of node.declarations) {
          if (d.id.type !== 'Identifier') {
            this.fail('KILN_OBJECT', 'destructuring is outside the kernel language', d.id)
            continue
          }
          if (!d.init) {
            this.fail('KILN_NO_INIT', `\`${d.id.name}\` is declared without an initial value`, d, [`write \`let ${d.id.name} = 0\` (kernel locals always hold a number or a boolean)`])
            continue
          }
          decls.push({ name: d.id.name, init: this.expr(d.init), span: this.span(d), nameSpan: this.span(d.id) })
        }
        return { kind: 'Let', constant: node.kind === 'const', decls, span }
      }
      case 'IfStatement':
        return { kind: 'If', test: this.expr(node.test), then: this.stmt(node.consequent), else: node.alternate ? this.stmt(node.alternate) : null, span }
      case 'ForStatement':
        return {
          kind: 'For',
          label,
          init: node.init ? (node.init.type === 'VariableDeclaration' ? this.stmt(node.init) : { kind: 'ExprStmt', expr: this.expr(node.init), span: this.span(node.init) }) : null,
          test: node.test ? this.expr(node.test) : null,
          update: node.update ? this.expr(node.update) : null,
          body: this.stmt(node.body),
          span,
        }
      case 'WhileStatement':
        return { kind: 'While', label, test: this.expr(node.test), body: this.stmt(node.body), span }
      case 'DoWhileStatement':
        return { kind: 'DoWhile', label, body: this.stmt(node.body), test: this.expr(node.test), span }
      case 'BreakStatement':
        return { kind: 'Break', label: node.label?.name ?? null, span }
      case 'ContinueStatement':
        return { kind: 'Continue', label: node.label?.name ?? null, span }
      case 'ReturnStatement':
        return { kind: 'Return', value: node.argument ? this.expr(node.argument) : null, span }
      case 'BlockStatement':
        return { kind: 'Block', body: this.statements(node.body), span }
      case 'ExpressionStatement':
        if (node.directive !== undefined) return { kind: 'Empty', span }
        return { kind: 'ExprStmt', expr: this.expr(node.expression), span }
      case 'EmptyStatement':
        return { kind: 'Empty', span }
      case 'LabeledStatement': {
        const body = node.body
        if (body.type === 'ForStatement' || body.type === 'WhileStatement' || body.type === 'DoWhileStatement') return this.stmt(body, node.label.name)
        if (body.type === 'BlockStatement') return { kind: 'Block', body: this.statements(body.body), label: node.label.name, span }
        this.fail('KILN_STATEMENT', 'labels are allowed only on loops and blocks', node)
        return { kind: 'Empty', span }
      }
      case 'TryStatement':
        this.fail('KILN_EXCEPTION', 'try/catch is outside the kernel language', node, ['kernels cannot throw; check conditions with `if` instead'])
        return { kind: 'Empty', span }
      case 'ThrowStatement':
        this.fail('KILN_EXCEPTION', '`throw` is outside the kernel language', node, ['return a sentinel value (for example NaN) instead'])
        return { kind: 'Empty', span }
      case 'FunctionDeclaration':
        this.fail('KILN_CLOSURE', `nested function \`${node.id?.name ?? ''}\` is outside the kernel language`, node, ['move it to module scope and pass it as a helper in `deps`'])
        return { kind: 'Empty', span }
      case 'ClassDeclaration':
        this.fail('KILN_OBJECT', 'classes are outside the kernel language', node)
        return { kind: 'Empty', span }
      case 'SwitchStatement':
        this.fail('KILN_STATEMENT', '`switch` is outside the kernel language', node, ['use if / else if'])
        return { kind: 'Empty', span }
      case 'ForInStatement':
      case 'ForOfStatement':
        this.fail('KILN_STATEMENT', `\`${node.type === 'ForInStatement' ? 'for...in' : 'for...of'}\` is outside the kernel language`, node, ['use a counted loop: `for (let i = 0; i < a.length; i++)`'])
        return { kind: 'Empty', span }
      default:
        this.fail('KILN_STATEMENT', `${describe(node)} is outside the kernel language`, node)
        return { kind: 'Empty', span }
    }
  }

  name(node: EsNode): NameRef {
    return { kind: 'Name', name: node.name, span: this.span(node) }
  }

  /** An assignment or update target: a name or `a[i]`. */
  /**
   * `t ||= v` is `t || (t = v)`, `t &&= v` is `t && (t = v)`, `t ??= v` is `t ?? (t = v)`: the target is read once more,
   * which is the same only when reading it has no effect, so an index must be a name or a number.
   */
  logicalAssign(node: EsNode, op: '||' | '&&' | '??', span: Span): Expr {
    const left = node.left
    const plainIndex = left.type === 'MemberExpression' && left.computed && left.object.type === 'Identifier' && (left.property.type === 'Identifier' || (left.property.type === 'Literal' && typeof left.property.value === 'number'))
    if (left.type !== 'Identifier' && !plainIndex) {
      return this.bad('KILN_OPERATOR', `\`${op}=\` is supported on a local or \`a[i]\` with a name or number as index`, node, ['read the element into a local first'])
    }
    const read = this.expr(left)
    const target = this.target(left)
    const value = this.expr(node.right)
    if (!target) return { kind: 'Num', value: 0, span }
    return { kind: 'Logical', op, left: read, right: { kind: 'Assign', op: '=', target, value, span }, span }
  }

  target(node: EsNode): NameRef | IndexExpr | null {
    if (node.type === 'Identifier') {
      if (node.name === 'arguments') {
        this.fail('KILN_ARGUMENTS', '`arguments` is outside the kernel language', node)
        return null
      }
      return this.name(node)
    }
    if (node.type === 'MemberExpression') {
      if (!node.computed && node.property.type === 'Identifier' && node.property.name === 'length') {
        this.fail('KILN_LENGTH_WRITE', `cannot assign to \`${sourceName(node.object)}.length\``, node, ['typed arrays have a fixed length; allocate an array of the size you need before calling the kernel'])
        return null
      }
      const e = this.expr(node)
      if (e.kind === 'Index') return e
      if (e.kind === 'Member') {
        this.fail(e.object.name === 'Math' ? 'KILN_GLOBAL_ASSIGN' : 'KILN_PROPERTY', `cannot assign to \`${e.object.name}.${e.property}\``, node)
      }
      return null
    }
    this.fail('KILN_OBJECT', 'destructuring assignment is outside the kernel language', node)
    return null
  }

  expr(node: EsNode): Expr {
    this.nodes++
    const span = this.span(node)
    switch (node.type) {
      case 'Literal': {
        if (typeof node.value === 'number') return { kind: 'Num', value: node.value, span }
        if (typeof node.value === 'boolean') return { kind: 'Bool', value: node.value, span }
        if (typeof node.value === 'string') return this.bad('KILN_STRING', 'strings are outside the kernel language', node)
        if (node.regex) return this.bad('KILN_STRING', 'regular expressions are outside the kernel language', node)
        if (node.bigint !== undefined) return this.bad('KILN_OBJECT', 'BigInt values are outside the kernel language', node, ['use numbers; bitwise operators give exact 32-bit integer results'])
        return this.bad('KILN_OBJECT', '`null` is outside the kernel language', node)
      }
      case 'TemplateLiteral':
      case 'TaggedTemplateExpression':
        return this.bad('KILN_STRING', 'template literals are outside the kernel language', node)
      case 'Identifier':
        if (node.name === 'arguments') return this.bad('KILN_ARGUMENTS', '`arguments` is outside the kernel language', node, ['name each parameter'])
        return this.name(node)
      case 'ThisExpression':
        return this.bad('KILN_OBJECT', '`this` is outside the kernel language', node, ['pass what you need as an argument'])
      case 'Super':
        return this.bad('KILN_OBJECT', '`super` is outside the kernel language', node)
      case 'ArrayExpression':
        return this.bad('KILN_OBJECT', 'array literals are outside the kernel language', node, ['pass a typed array as an argument, or declare a `const` array of numbers at module scope'])
      case 'ObjectExpression':
        return this.bad('KILN_OBJECT', 'object literals are outside the kernel language', node, ['kernels work on numbers, booleans and typed arrays'])
      case 'NewExpression':
        return this.bad('KILN_OBJECT', `\`new ${sourceName(node.callee)}\` is outside the kernel language`, node, ['allocate arrays before calling the kernel and pass them as arguments'])
      case 'ClassExpression':
        return this.bad('KILN_OBJECT', 'classes are outside the kernel language', node)
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        return this.bad('KILN_CLOSURE', 'nested functions and closures are outside the kernel language', node, ['move the function to module scope and pass it as a helper in `deps`'])
      case 'AwaitExpression':
        return this.bad('KILN_ASYNC', '`await` is outside the kernel language', node)
      case 'YieldExpression':
        return this.bad('KILN_ASYNC', '`yield` is outside the kernel language', node)
      case 'SpreadElement':
        return this.bad('KILN_ARGUMENTS', 'spread is outside the kernel language', node)
      case 'ChainExpression':
        return this.bad('KILN_OPERATOR', 'optional chaining (`?.`) is outside the kernel language', node)
      case 'ImportExpression':
      case 'MetaProperty':
        return this.bad('KILN_OBJECT', `${describe(node)} is outside the kernel language`, node)
      case 'UnaryExpression': {
        const op = node.operator
        if (op === '-' || op === '+' || op === '!' || op === '~' || op === 'void') return { kind: 'Unary', op, arg: this.expr(node.argument), span }
        return this.bad('KILN_OPERATOR', `the \`${op}\` operator is outside the kernel language`, node)
      }
      case 'BinaryExpression': {
        if (!binaryOps.has(node.operator)) return this.bad('KILN_OPERATOR', `the \`${node.operator}\` operator is outside the kernel language`, node)
        return { kind: 'Binary', op: node.operator as BinaryOp, left: this.expr(node.left), right: this.expr(node.right), span }
      }
      case 'LogicalExpression': {
        return { kind: 'Logical', op: node.operator, left: this.expr(node.left), right: this.expr(node.right), span }
      }
      case 'ConditionalExpression':
        return { kind: 'Cond', test: this.expr(node.test), then: this.expr(node.consequent), else: this.expr(node.alternate), span }
      case 'AssignmentExpression': {
        const op = node.operator as string
        if (op === '||=' || op === '&&=' || op === '??=') return this.logicalAssign(node, op.slice(0, 2) as '||' | '&&' | '??', span)
        if (op !== '=' && !(op.endsWith('=') && arithOps.has(op.slice(0, -1)))) {
          return this.bad('KILN_OPERATOR', `the \`${op}\` operator is outside the kernel language`, node)
        }
        const target = this.target(node.left)
        const value = this.expr(node.right)
        if (!target) return { kind: 'Num', value: 0, span }
        return { kind: 'Assign', op: op as AssignOp, target, value, span }
      }
      case 'UpdateExpression': {
        const target = this.target(node.argument)
        if (!target) return { kind: 'Num', value: 0, span }
        return { kind: 'Update', op: node.operator, prefix: node.prefix, target, span }
      }
      case 'SequenceExpression':
        return { kind: 'Seq', exprs: node.expressions.map((e: EsNode) => this.expr(e)), span }
      case 'ParenthesizedExpression':
        return this.expr(node.expression)
      case 'MemberExpression':
        return this.member(node)
      case 'CallExpression':
        return this.call(node)
      default:
        return this.bad('KILN_OBJECT', `${describe(node)} is outside the kernel language`, node)
    }
  }

  /** `ns.name` where ns is a namespace Vite's SSR transform introduced: the plain name. */
  ssrName(node: EsNode): NameRef | null {
    if (node.type === 'MemberExpression' && !node.computed && node.object.type === 'Identifier' && isSsrNamespace(node.object.name) && node.property.type === 'Identifier') {
      return { kind: 'Name', name: node.property.name, span: this.span(node) }
    }
    return null
  }

  member(node: EsNode): Expr {
    const span = this.span(node)
    if (node.optional) return this.bad('KILN_OPERATOR', 'optional chaining (`?.`) is outside the kernel language', node)
    const ssr = this.ssrName(node)
    if (ssr) return ssr
    const object = node.object.type === 'Identifier' ? this.name(node.object) : this.ssrName(node.object)
    if (!object) {
      // Report what is wrong with the object itself first (`this.x` is about `this`).
      const before = this.diagnostics.length
      this.expr(node.object)
      if (this.diagnostics.length > before) return { kind: 'Num', value: 0, span }
      if (node.computed) return this.bad('KILN_NOT_INDEXABLE', `cannot index \`${sourceName(node.object)}\`; only typed-array parameters and constant arrays can be indexed`, node)
      return this.bad('KILN_PROPERTY', `property \`${sourceName(node)}\` is outside the kernel language`, node, ['only `array.length` and `Math` members can be read'])
    }
    if (object.name === 'arguments') return this.bad('KILN_ARGUMENTS', '`arguments` is outside the kernel language', node.object)
    if (node.computed) return { kind: 'Index', object, index: this.expr(node.property), span }
    if (node.property.type !== 'Identifier') return this.bad('KILN_OBJECT', 'private fields are outside the kernel language', node)
    return { kind: 'Member', object, property: node.property.name, span, propertySpan: this.span(node.property) }
  }

  call(node: EsNode): Expr {
    const span = this.span(node)
    if (node.optional) return this.bad('KILN_OPERATOR', 'optional calls (`?.()`) are outside the kernel language', node)
    const args: Expr[] = node.arguments.map((a: EsNode) => this.expr(a))
    let callee = node.callee
    // `(0, ns.name)(...)`: the SSR transform's way to call an import without a `this`.
    if (callee.type === 'SequenceExpression' && callee.expressions.length === 2 && callee.expressions[0].type === 'Literal' && callee.expressions[0].value === 0) {
      callee = callee.expressions[1]
    }
    const ssr = this.ssrName(callee)
    if (ssr) return { kind: 'Call', callee: ssr, mathName: null, args, span }
    if (callee.type === 'Identifier') return { kind: 'Call', callee: this.name(callee), mathName: null, args, span }
    if (callee.type === 'MemberExpression' && !callee.computed && callee.object.type === 'Identifier' && callee.object.name === 'Math' && callee.property.type === 'Identifier') {
      return { kind: 'Call', callee: this.name(callee.object), mathName: callee.property.name, args, span }
    }
    if (callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression') {
      return this.bad('KILN_CLOSURE', 'immediately invoked functions are outside the kernel language', callee)
    }
    return this.bad('KILN_UNKNOWN_FUNCTION', `call to \`${sourceName(callee)}\` is outside the kernel language`, node, ['kernels can call helper functions passed in `deps` and `Math` functions'])
  }
}

/** A short readable name for an ESTree node in messages. */
function describe(node: EsNode): string {
  const words = String(node.type).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
  return `a ${words}`
}

function sourceName(node: EsNode): string {
  if (node.type === 'Identifier') return node.name
  if (node.type === 'ThisExpression') return 'this'
  if (node.type === 'MemberExpression' && !node.computed) return `${sourceName(node.object)}.${node.property.name ?? '?'}`
  if (node.type === 'MemberExpression') return `${sourceName(node.object)}[...]`
  if (node.type === 'CallExpression') return `${sourceName(node.callee)}(...)`
  return '(expression)'
}

