// Constant folding of module-scope values a kernel reads: literals, arithmetic, Math constants
// and functions, other folded constants (across imports, through `lookup`), arrays of numbers.
// Anything else is "not constant", with the node that made it so.

import type { EsNode } from './moduleInfo.js'

export type Folded = number | boolean | number[]

export type FoldResult = { ok: true; value: Folded } | { ok: false; node: EsNode; why: string }

/** Resolves an identifier (or `ns.name`) to a folded value, or why it is not constant. */
export type Lookup = (node: EsNode) => Promise<FoldResult>

const mathConstants = new Set(['E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2'])
const mathFunctions = new Set([
  'abs', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'atan2', 'cbrt', 'ceil', 'clz32', 'cos', 'cosh', 'exp', 'expm1',
  'floor', 'fround', 'hypot', 'imul', 'log', 'log10', 'log1p', 'log2', 'max', 'min', 'pow', 'round', 'sign', 'sin', 'sinh',
  'sqrt', 'tan', 'tanh', 'trunc',
])

const no = (node: EsNode, why: string): FoldResult => ({ ok: false, node, why })

export async function foldExpression(node: EsNode, lookup: Lookup): Promise<FoldResult> {
  const scalar = async (n: EsNode): Promise<{ ok: true; value: number | boolean } | { ok: false; node: EsNode; why: string }> => {
    const r = await foldExpression(n, lookup)
    if (!r.ok) return r
    if (Array.isArray(r.value)) return { ok: false, node: n, why: 'an array used in arithmetic' }
    return { ok: true, value: r.value }
  }
  switch (node.type) {
    case 'Literal':
      if (typeof node.value === 'number' || typeof node.value === 'boolean') return { ok: true, value: node.value }
      return no(node, node.value === null ? '`null`' : `a ${typeof node.value} literal`)
    case 'ParenthesizedExpression':
      return foldExpression(node.expression, lookup)
    case 'Identifier':
      if (node.name === 'NaN') return { ok: true, value: NaN }
      if (node.name === 'Infinity') return { ok: true, value: Infinity }
      return lookup(node)
    case 'MemberExpression':
      if (!node.computed && node.object.type === 'Identifier' && node.object.name === 'Math') {
        if (mathConstants.has(node.property.name)) return { ok: true, value: (Math as unknown as Record<string, number>)[node.property.name] }
        return no(node, `\`Math.${node.property.name}\` is not a Math constant`)
      }
      if (!node.computed) return lookup(node)
      return no(node, 'a computed member access')
    case 'UnaryExpression': {
      const a = await scalar(node.argument)
      if (!a.ok) return a
      const v = a.value as number
      switch (node.operator) {
        case '-': return { ok: true, value: -v }
        case '+': return { ok: true, value: +v }
        case '!': return { ok: true, value: !v }
        case '~': return { ok: true, value: ~v }
      }
      return no(node, `the \`${node.operator}\` operator`)
    }
    case 'BinaryExpression': {
      const a = await scalar(node.left)
      if (!a.ok) return a
      const b = await scalar(node.right)
      if (!b.ok) return b
      const x = a.value as number
      const y = b.value as number
      switch (node.operator) {
        case '+': return { ok: true, value: x + y }
        case '-': return { ok: true, value: x - y }
        case '*': return { ok: true, value: x * y }
        case '/': return { ok: true, value: x / y }
        case '%': return { ok: true, value: x % y }
        case '**': return { ok: true, value: x ** y }
        case '|': return { ok: true, value: x | y }
        case '&': return { ok: true, value: x & y }
        case '^': return { ok: true, value: x ^ y }
        case '<<': return { ok: true, value: x << y }
        case '>>': return { ok: true, value: x >> y }
        case '>>>': return { ok: true, value: x >>> y }
        case '<': return { ok: true, value: x < y }
        case '<=': return { ok: true, value: x <= y }
        case '>': return { ok: true, value: x > y }
        case '>=': return { ok: true, value: x >= y }
        case '===': case '==': return { ok: true, value: x === y }
        case '!==': case '!=': return { ok: true, value: x !== y }
      }
      return no(node, `the \`${node.operator}\` operator`)
    }
    case 'LogicalExpression': {
      const a = await scalar(node.left)
      if (!a.ok) return a
      if (node.operator === '&&') return a.value ? scalar(node.right) : a
      if (node.operator === '||') return a.value ? a : scalar(node.right)
      return no(node, 'the `??` operator')
    }
    case 'ConditionalExpression': {
      const t = await scalar(node.test)
      if (!t.ok) return t
      return foldExpression(t.value ? node.consequent : node.alternate, lookup)
    }
    case 'CallExpression': {
      const c = node.callee
      if (c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && c.object.name === 'Math' && mathFunctions.has(c.property.name)) {
        const args: number[] = []
        for (const a of node.arguments) {
          const r = await scalar(a)
          if (!r.ok) return r
          args.push(r.value as number)
        }
        return { ok: true, value: (Math as unknown as Record<string, (...a: number[]) => number>)[c.property.name](...args) }
      }
      return no(node, 'a call result')
    }
    case 'ArrayExpression': {
      const values: number[] = []
      for (const e of node.elements) {
        if (!e || e.type === 'SpreadElement') return no(node, 'an array with holes or spread')
        const r = await scalar(e)
        if (!r.ok) return r
        if (typeof r.value !== 'number') return no(e, 'an array element that is not a number')
        values.push(r.value)
      }
      return { ok: true, value: values }
    }
    case 'ObjectExpression':
      return no(node, 'an object')
    case 'NewExpression':
      return no(node, `\`new ${node.callee.name ?? ''}\``)
    default:
      return no(node, `a ${String(node.type).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}`)
  }
}
