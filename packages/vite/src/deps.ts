// A kernel site → everything its compile depends on, across files: the source of every helper
// it reaches (transitively, through named, default and namespace imports and re-export
// chains) and the folded value of every module constant it reads. Anything else it names is
// an error with a location and a fix. Module loading is injected (the bundler's resolver).

import MagicString from 'magic-string'
import { foldExpression, type Folded, type FoldResult } from './fold.js'
import { positionOf, type EsNode, type ModuleInfo } from './moduleInfo.js'

export interface ModuleHost {
  /** Resolves `source` from `importer` with the bundler's resolver and reads it; null if unresolvable. */
  load(source: string, importer: string): Promise<ModuleInfo | null>
}

export interface KernelDeps {
  /** The kernel's source text as the compiler gets it (namespace members flattened). */
  source: string
  helpers: Record<string, string>
  /** Where each helper's source starts (module id, 1-based line, 0-based column), for diagnostics. */
  helperLocations: Record<string, { id: string; line: number; column: number }>
  constants: Record<string, Folded>
  /** Every module read, for watch registration. */
  files: string[]
}

export interface DependencyProblem {
  code: 'KILN_NOT_CONSTANT' | 'KILN_UNRESOLVED_IMPORT' | 'KILN_DEP_CONFLICT' | 'KILN_UNKNOWN_NAME'
  message: string
  /** The module the problem is in; `node` is one of its nodes. */
  module: ModuleInfo
  node: EsNode
  notes: string[]
}

export class DependencyError extends Error {
  constructor(readonly problem: DependencyProblem) {
    super(problem.message)
  }
}

const builtins = new Set(['Math', 'NaN', 'Infinity', 'undefined', 'arguments'])

interface References {
  /** Free identifiers (read or called), with their nodes. */
  names: Map<string, EsNode[]>
  /** `ns.member` where `ns` is free: rewritten to `ns$member`. */
  members: { ns: string; member: string; node: EsNode }[]
}

/** Free names of a function: referenced, not declared anywhere inside it (no closures exist in kernels). */
export function freeReferences(fn: EsNode): References {
  const declared = new Set<string>()
  const collectPattern = (p: EsNode): void => {
    if (!p) return
    if (p.type === 'Identifier') declared.add(p.name)
    else if (p.type === 'AssignmentPattern') collectPattern(p.left)
    else if (p.type === 'RestElement') collectPattern(p.argument)
    else if (p.type === 'ArrayPattern') p.elements.forEach(collectPattern)
    else if (p.type === 'ObjectPattern') p.properties.forEach((q: EsNode) => collectPattern(q.value ?? q.argument))
  }
  const declare = (node: EsNode): void => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'VariableDeclarator') collectPattern(node.id)
    if ((node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression') && node.id) declared.add(node.id.name)
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') node.params.forEach(collectPattern)
    if (node.type === 'CatchClause') collectPattern(node.param)
    for (const key in node) {
      if (key === 'start' || key === 'end') continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach(declare)
      else if (v && typeof v.type === 'string') declare(v)
    }
  }
  declare(fn)
  const refs: References = { names: new Map(), members: [] }
  const use = (node: EsNode): void => {
    if (!node || typeof node.type !== 'string') return
    if (node.type === 'Identifier') {
      if (!declared.has(node.name) && !builtins.has(node.name)) {
        const list = refs.names.get(node.name) ?? []
        list.push(node)
        refs.names.set(node.name, list)
      }
      return
    }
    if (node.type === 'MemberExpression' && !node.computed) {
      const o = node.object
      if (o.type === 'Identifier' && !declared.has(o.name) && !builtins.has(o.name)) {
        refs.members.push({ ns: o.name, member: node.property.name, node })
        return
      }
      use(o)
      return
    }
    if (node.type === 'Property' && !node.computed) {
      use(node.value)
      return
    }
    if (node.type === 'LabeledStatement' || node.type === 'BreakStatement' || node.type === 'ContinueStatement') {
      if (node.body) use(node.body)
      return
    }
    for (const key in node) {
      if (key === 'start' || key === 'end' || key === 'id' && (node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration')) continue
      if (key === 'params') continue
      const v = node[key]
      if (Array.isArray(v)) v.forEach(use)
      else if (v && typeof v.type === 'string') use(v)
    }
  }
  use(fn.body)
  for (const p of fn.params) if (p.type === 'AssignmentPattern') use(p.right)
  return refs
}

type Resolved = { kind: 'helper'; module: ModuleInfo; node: EsNode } | { kind: 'constant'; value: Folded } | { kind: 'namespace'; module: ModuleInfo }

export async function collectDependencies(fn: EsNode, info: ModuleInfo, host: ModuleHost): Promise<KernelDeps> {
  const helpers: Record<string, string> = {}
  const helperLocations: KernelDeps['helperLocations'] = {}
  const helperOrigin = new Map<string, string>()
  const constants: Record<string, Folded> = {}
  const files = new Set<string>([info.id])

  const load = async (source: string, importer: ModuleInfo, at: EsNode): Promise<ModuleInfo> => {
    const m = await host.load(source, importer.id)
    if (!m) {
      throw new DependencyError({ code: 'KILN_UNRESOLVED_IMPORT', message: `cannot resolve \`${source}\` from ${importer.id}`, module: importer, node: at, notes: ['check the import path; the kernel needs every helper and constant it uses to resolve at build time'] })
    }
    files.add(m.id)
    return m
  }

  /** What `name` declared or imported in `m` is; `at` is the reference, for errors. */
  const resolveLocal = async (m: ModuleInfo, name: string, at: EsNode, atModule: ModuleInfo, seen: Set<string>): Promise<Resolved> => {
    const tag = `${m.id}\0${name}`
    if (seen.has(tag)) throw new DependencyError({ code: 'KILN_NOT_CONSTANT', message: `\`${name}\` is defined in terms of itself`, module: atModule, node: at, notes: [] })
    seen.add(tag)
    const d = m.declarations.get(name)
    if (d?.kind === 'function') return { kind: 'helper', module: m, node: d.node }
    if (d?.kind === 'variable') {
      if (d.init && (d.init.type === 'FunctionExpression' || d.init.type === 'ArrowFunctionExpression') && (d.declKind === 'const' || !d.reassigned)) {
        return { kind: 'helper', module: m, node: d.init }
      }
      const reason = d.declKind !== 'const' && d.reassigned ? `a \`${d.declKind}\` that is reassigned` : !d.init ? 'declared without a value' : null
      if (reason) throw notConstant(name, reason, at, atModule, m, d.node)
      const r = await foldExpression(d.init, (node) => foldReference(m, node, seen))
      if (!r.ok) throw notConstant(name, `its value is ${r.why}`, at, atModule, m, r.node)
      return { kind: 'constant', value: r.value }
    }
    const imp = m.imports.get(name)
    if (imp) {
      const target = await load(imp.source, m, at)
      if (imp.imported === '*') return { kind: 'namespace', module: target }
      return resolveExport(target, imp.imported, at, atModule, seen)
    }
    throw new DependencyError({
      code: 'KILN_NOT_CONSTANT', message: `\`${name}\` is not a module constant or helper: it is a global of the environment`, module: atModule, node: at,
      notes: [`pass \`${name}\` (or what the kernel needs from it) as an argument`],
    })
  }

  const resolveExport = async (m: ModuleInfo, name: string, at: EsNode, atModule: ModuleInfo, seen: Set<string>): Promise<Resolved> => {
    const found = await findExport(m, name, at, new Set())
    if (!found) throw new DependencyError({ code: 'KILN_UNRESOLVED_IMPORT', message: `${m.id} does not export \`${name}\``, module: atModule, node: at, notes: [] })
    if (found.target.kind === 'local') return resolveLocal(found.module, found.target.local, at, atModule, seen)
    const node = found.target.node
    // `export default function (x) {...}` (anonymous declaration) or a function expression.
    if (node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression' || node.type === 'FunctionDeclaration') return { kind: 'helper', module: found.module, node }
    const r = await foldExpression(node, (n) => foldReference(found.module, n, seen))
    if (!r.ok) throw notConstant('default', `its value is ${r.why}`, at, atModule, found.module, r.node)
    return { kind: 'constant', value: r.value }
  }

  /** Follows re-export chains and `export *`; null when no such export. */
  const findExport = async (m: ModuleInfo, name: string, at: EsNode, visited: Set<string>): Promise<{ module: ModuleInfo; target: { kind: 'local'; local: string } | { kind: 'expression'; node: EsNode } } | null> => {
    if (visited.has(m.id)) return null
    visited.add(m.id)
    const e = m.exports.get(name)
    if (e?.kind === 'local' || e?.kind === 'expression') return { module: m, target: e }
    if (e?.kind === 'reexport') {
      const target = await load(e.source, m, at)
      if (e.imported === '*') throw new DependencyError({ code: 'KILN_NOT_CONSTANT', message: `\`${name}\` is a module namespace, not a value`, module: m, node: at, notes: ['import the member you need'] })
      return findExport(target, e.imported, at, new Set())
    }
    for (const source of m.starExports) {
      const r = await findExport(await load(source, m, at), name, at, visited)
      if (r) return r
    }
    return null
  }

  const foldReference = async (m: ModuleInfo, node: EsNode, seen: Set<string>): Promise<FoldResult> => {
    let r: Resolved
    if (node.type === 'Identifier') r = await resolveLocal(m, node.name, node, m, new Set(seen))
    else if (node.type === 'MemberExpression' && node.object.type === 'Identifier') {
      const ns = await resolveLocal(m, node.object.name, node, m, new Set(seen))
      if (ns.kind !== 'namespace') return { ok: false, node, why: 'a property of an object' }
      r = await resolveExport(ns.module, node.property.name, node, m, new Set(seen))
    } else return { ok: false, node, why: 'not a constant expression' }
    if (r.kind !== 'constant') return { ok: false, node, why: r.kind === 'helper' ? 'a function' : 'a module namespace' }
    return { ok: true, value: r.value }
  }

  /** Registers what a flat name stands for; recurses into helpers. */
  const bind = async (flat: string, r: Resolved, at: EsNode, atModule: ModuleInfo): Promise<void> => {
    if (r.kind === 'namespace') {
      throw new DependencyError({ code: 'KILN_NOT_CONSTANT', message: `\`${flat}\` is a module namespace; kernels can use its members (\`${flat}.name\`), not the namespace itself`, module: atModule, node: at, notes: [] })
    }
    if (r.kind === 'constant') {
      if (flat in constants && !sameValue(constants[flat], r.value)) throw conflict(flat, at, atModule)
      constants[flat] = r.value
      return
    }
    const origin = `${r.module.id}\0${r.node.start}`
    if (helperOrigin.has(flat)) {
      if (helperOrigin.get(flat) !== origin) throw conflict(flat, at, atModule)
      return
    }
    helperOrigin.set(flat, origin)
    helperLocations[flat] = { id: r.module.id, ...positionOf(r.module, r.node.start) }
    helpers[flat] = '' // reserved while its own dependencies resolve (cycles terminate here)
    helpers[flat] = await visitFunction(r.node, r.module)
  }

  /** Resolves a function's free names in its module and returns its (flattened) source. */
  const visitFunction = async (node: EsNode, m: ModuleInfo): Promise<string> => {
    const refs = freeReferences(node)
    for (const [name, nodes] of refs.names) await bind(name, await resolveLocal(m, name, nodes[0], m, new Set()), nodes[0], m)
    const text = new MagicString(m.code.slice(node.start, node.end))
    for (const ref of refs.members) {
      const ns = await resolveLocal(m, ref.ns, ref.node, m, new Set())
      if (ns.kind !== 'namespace') {
        // `a.length`-style reads of a free non-namespace name: the compiler reports what it is.
        await bind(ref.ns, ns, ref.node, m)
        continue
      }
      const flat = `${ref.ns}$${ref.member}`
      await bind(flat, await resolveExport(ns.module, ref.member, ref.node, m, new Set()), ref.node, m)
      text.overwrite(ref.node.start - node.start, ref.node.end - node.start, flat)
    }
    return text.toString()
  }

  const source = await visitFunction(fn, info)
  return { source, helpers, helperLocations, constants, files: [...files] }
}

function sameValue(a: Folded, b: Folded): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
  return Object.is(a, b)
}

function notConstant(name: string, reason: string, at: EsNode, atModule: ModuleInfo, declModule: ModuleInfo, declNode: EsNode): DependencyError {
  const declared = positionOf(declModule, declNode.start)
  return new DependencyError({
    code: 'KILN_NOT_CONSTANT',
    message: `\`${name}\` cannot be folded into the kernel: ${reason}`,
    module: atModule, node: at,
    notes: [`declared at ${declModule.id}:${declared.line}:${declared.column + 1}`, `pass \`${name}\` as an argument, or make it a \`const\` of numbers, booleans or an array of numbers`],
  })
}

function conflict(flat: string, at: EsNode, atModule: ModuleInfo): DependencyError {
  return new DependencyError({
    code: 'KILN_DEP_CONFLICT', message: `\`${flat}\` names two different things among this kernel's helpers and constants`, module: atModule, node: at,
    notes: ['rename one of them (kernels and their helpers share one namespace)'],
  })
}
