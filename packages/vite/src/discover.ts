// A module → its `kernel(fn, options)` calls whose callee is the `kernel` export of `kiln`
// (`import { kernel }`, `import { kernel as k }`, `import * as K` then `K.kernel`), with the
// function and the statically readable options. Pure.

import { readModule, type EsNode, type ModuleInfo } from './moduleInfo.js'

export interface KernelSite {
  /** The binding the call result is assigned to (`export const brighten = kernel(...)`), or the function's name. */
  binding: string
  call: EsNode
  /** The kernel function: an expression, or a function declaration the call names. */
  fn: EsNode
  /** The options object literal, if any. */
  options: EsNode | null
  cache: boolean
  signatures: string[]
  /** Set when the options cannot be read statically; the kernel is left to run time. */
  dynamic: string | null
}

/** Text every module with a kernel call contains (also the bundler's hook filter). */
export const prefilter = /\bkernel\b/

/** Quick text test before parsing: could this module call `kernel` from `kiln`? */
export function mayHaveKernels(code: string): boolean {
  return prefilter.test(code) && /['"]kiln['"]/.test(code)
}

export function findKernels(info: ModuleInfo): KernelSite[] {
  const direct = new Set<string>()
  const namespaces = new Set<string>()
  for (const [local, b] of info.imports) {
    if (b.source !== 'kiln') continue
    if (b.imported === 'kernel') direct.add(local)
    if (b.imported === '*') namespaces.add(local)
  }
  if (direct.size === 0 && namespaces.size === 0) return []
  const sites: KernelSite[] = []
  const isKernelCallee = (c: EsNode): boolean =>
    (c.type === 'Identifier' && direct.has(c.name)) ||
    (c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && namespaces.has(c.object.name) && c.property.name === 'kernel')

  const visit = (node: EsNode, binding: string | null): void => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier') {
      visit(node.init, node.id.name)
      return
    }
    if (node.type === 'CallExpression' && isKernelCallee(node.callee)) {
      const site = readSite(info, node, binding)
      if (site) sites.push(site)
    }
    for (const key in node) {
      if (key === 'start' || key === 'end') continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach((x) => visit(x, null))
      else if (v && typeof v.type === 'string') visit(v, null)
    }
  }
  visit(info.ast, null)
  return sites
}

function readSite(info: ModuleInfo, call: EsNode, binding: string | null): KernelSite | null {
  let fn = call.arguments[0]
  if (!fn) return null
  if (fn.type === 'Identifier') {
    const d = info.declarations.get(fn.name)
    if (d?.kind === 'function') fn = d.node
    else if (d?.kind === 'variable' && d.declKind === 'const' && (d.init?.type === 'FunctionExpression' || d.init?.type === 'ArrowFunctionExpression')) fn = d.init
    else return { binding: binding ?? fn.name, call, fn, options: call.arguments[1] ?? null, cache: false, signatures: [], dynamic: `its function \`${fn.name}\` is not declared in this module` }
  }
  if (fn.type !== 'FunctionExpression' && fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionDeclaration') {
    return { binding: binding ?? 'kernel', call, fn, options: call.arguments[1] ?? null, cache: false, signatures: [], dynamic: 'its first argument is not a function' }
  }
  const site: KernelSite = { binding: binding ?? fn.id?.name ?? 'kernel', call, fn, options: call.arguments[1] ?? null, cache: false, signatures: [], dynamic: null }
  const options = site.options
  if (!options) return site
  if (options.type !== 'ObjectExpression') {
    site.dynamic = 'its options are not an object literal'
    return site
  }
  for (const p of options.properties) {
    if (p.type !== 'Property' || p.computed || p.key.type !== 'Identifier') {
      site.dynamic = 'its options contain a spread or computed key'
      continue
    }
    const key = p.key.name
    const v = p.value
    if (key === 'cache') {
      if (v.type === 'Literal' && typeof v.value === 'boolean') site.cache = v.value
      else site.dynamic = '`cache` is not a literal true or false'
    } else if (key === 'signatures') {
      if (v.type === 'ArrayExpression' && v.elements.every((e: EsNode) => e?.type === 'Literal' && typeof e.value === 'string')) {
        site.signatures = v.elements.map((e: EsNode) => e.value)
      } else {
        site.dynamic = '`signatures` is not an array of string literals'
      }
    }
  }
  return site
}

export { readModule }
