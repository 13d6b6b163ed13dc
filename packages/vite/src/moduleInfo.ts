// One module's source → what the plugin needs to know about its top level: imports, exports
// (local, re-exported, `export *`), function declarations and variable declarations. Pure.
// Any ESTree parser will do: in a build the bundler's own (`this.parse`, native), else acorn.

import { parse as acornParse } from 'acorn'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EsNode = any

export interface ImportBinding {
  source: string
  /** The imported name, `default`, or `*` for a namespace import. */
  imported: string
}

export type Declaration =
  | { kind: 'function'; name: string; node: EsNode }
  | { kind: 'variable'; name: string; declKind: 'const' | 'let' | 'var'; init: EsNode | null; node: EsNode; reassigned: boolean }

export type ExportTarget =
  /** `export function f`, `export const x`, `export { local as name }`, `export default function f`. */
  | { kind: 'local'; local: string }
  /** `export default <expression>` that is not a named declaration. */
  | { kind: 'expression'; node: EsNode }
  /** `export { a as b } from './m'`, `export * as ns from './m'` (imported = '*'). */
  | { kind: 'reexport'; source: string; imported: string }

export interface ModuleInfo {
  id: string
  code: string
  ast: EsNode
  imports: Map<string, ImportBinding>
  declarations: Map<string, Declaration>
  exports: Map<string, ExportTarget>
  /** Sources of `export * from` statements, in order. */
  starExports: string[]
  /** Offsets where lines start, built on first use by `positionOf`. */
  lineStarts?: number[]
}

/** An ESTree parser with `start`/`end` offsets on every node (locations are not needed). */
export type Parse = (code: string) => EsNode

const parseWithAcorn: Parse = (code) => acornParse(code, { ecmaVersion: 'latest', sourceType: 'module' })

/** Parses a module (JS; TypeScript must be stripped first) and indexes its top level. */
export function readModule(id: string, code: string, parse: Parse = parseWithAcorn): ModuleInfo {
  const ast: EsNode = parse(code)
  const info: ModuleInfo = { id, code, ast, imports: new Map(), declarations: new Map(), exports: new Map(), starExports: [] }
  const declare = (node: EsNode, exported: boolean): void => {
    if (node.type === 'FunctionDeclaration' && node.id) {
      info.declarations.set(node.id.name, { kind: 'function', name: node.id.name, node })
      if (exported) info.exports.set(node.id.name, { kind: 'local', local: node.id.name })
    } else if (node.type === 'VariableDeclaration') {
      for (const d of node.declarations) {
        if (d.id.type !== 'Identifier') continue
        info.declarations.set(d.id.name, { kind: 'variable', name: d.id.name, declKind: node.kind, init: d.init, node: d, reassigned: false })
        if (exported) info.exports.set(d.id.name, { kind: 'local', local: d.id.name })
      }
    } else if (node.type === 'ClassDeclaration' && node.id && exported) {
      info.exports.set(node.id.name, { kind: 'local', local: node.id.name })
    }
  }
  for (const node of ast.body) {
    switch (node.type) {
      case 'ImportDeclaration':
        for (const s of node.specifiers) {
          const imported = s.type === 'ImportNamespaceSpecifier' ? '*' : s.type === 'ImportDefaultSpecifier' ? 'default' : s.imported.name ?? s.imported.value
          info.imports.set(s.local.name, { source: node.source.value, imported })
        }
        break
      case 'ExportNamedDeclaration':
        if (node.declaration) declare(node.declaration, true)
        for (const s of node.specifiers ?? []) {
          const exported = s.exported.name ?? s.exported.value
          const local = s.local.name ?? s.local.value
          info.exports.set(exported, node.source ? { kind: 'reexport', source: node.source.value, imported: local } : { kind: 'local', local })
        }
        break
      case 'ExportAllDeclaration':
        if (node.exported) info.exports.set(node.exported.name ?? node.exported.value, { kind: 'reexport', source: node.source.value, imported: '*' })
        else info.starExports.push(node.source.value)
        break
      case 'ExportDefaultDeclaration': {
        const d = node.declaration
        if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) {
          declare(d, false)
          info.exports.set('default', { kind: 'local', local: d.id.name })
        } else if (d.type === 'Identifier') {
          info.exports.set('default', { kind: 'local', local: d.name })
        } else {
          info.exports.set('default', { kind: 'expression', node: d })
        }
        break
      }
      default:
        declare(node, false)
    }
  }
  markReassigned(info)
  return info
}

/** Marks top-level variables that are assigned anywhere in the module (they cannot be folded). */
function markReassigned(info: ModuleInfo): void {
  const visit = (node: EsNode): void => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'AssignmentExpression' || node.type === 'UpdateExpression') {
      const target = node.type === 'AssignmentExpression' ? node.left : node.argument
      if (target.type === 'Identifier') {
        const d = info.declarations.get(target.name)
        if (d?.kind === 'variable') d.reassigned = true
      }
    }
    for (const key in node) {
      if (key === 'start' || key === 'end') continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach(visit)
      else if (v && typeof v.type === 'string') visit(v)
    }
  }
  visit(info.ast)
}

/** Line (1-based) and column (0-based) of an offset in a module's code. */
export function positionOf(info: Pick<ModuleInfo, 'code' | 'lineStarts'>, offset: number): { line: number; column: number } {
  const starts = (info.lineStarts ??= lineStarts(info.code))
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }
  return { line: lo + 1, column: offset - starts[lo] }
}

function lineStarts(code: string): number[] {
  const starts = [0]
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}
