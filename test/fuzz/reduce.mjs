// Shrinks a failing program while it keeps failing the same way: greedy edits on the sources
// (drop a statement, keep one branch or a loop's body, replace an expression by one of its
// operands or a literal), then drops unused helpers and constants, keeps only the failing
// argument set and shortens its arrays. Each candidate runs in the pool (a hang is a no).

import * as acorn from 'acorn'
import MagicString from 'magic-string'

const STATEMENT_LISTS = new Set(['BlockStatement', 'Program'])

/** Every one-step edit of a function's source, biggest first. */
function edits(source) {
  let ast
  try {
    ast = acorn.parse(source, { ecmaVersion: 'latest' })
  } catch {
    return []
  }
  const out = []
  const text = (n) => source.slice(n.start, n.end)
  const replace = (n, by) => out.push({ size: n.end - n.start - by.length, apply: () => { const s = new MagicString(source); s.overwrite(n.start, n.end, by); return s.toString() } })
  const remove = (n) => out.push({ size: n.end - n.start, apply: () => { const s = new MagicString(source); s.remove(n.start, n.end); return s.toString() } })
  const isTarget = new Set()
  // A loop's test and update are left as they are: an edit there (`i < 2` → `2`) can make
  // the loop endless, and every such candidate would cost the pool's whole timeout.
  const loopHead = new Set()
  const walk = (n, parent) => {
    if (!n || typeof n.type !== 'string') return
    if (loopHead.has(parent)) loopHead.add(n)
    if (n.type === 'ForStatement') [n.test, n.update].forEach((x) => x && loopHead.add(x))
    if (n.type === 'WhileStatement' || n.type === 'DoWhileStatement') loopHead.add(n.test)
    if (loopHead.has(n)) {
      for (const [k, v] of Object.entries(n)) if (k !== 'type' && v && typeof v === 'object') (Array.isArray(v) ? v : [v]).forEach((c) => walk(c, n))
      return
    }
    if (n.type === 'AssignmentExpression') isTarget.add(n.left)
    if (n.type === 'UpdateExpression') isTarget.add(n.argument)
    if (STATEMENT_LISTS.has(parent?.type) && parent.type !== 'Program') remove(n)
    switch (n.type) {
      case 'IfStatement':
        replace(n, text(n.consequent))
        if (n.alternate) replace(n, text(n.alternate))
        break
      case 'ForStatement': case 'WhileStatement': case 'DoWhileStatement': case 'LabeledStatement':
        replace(n, text(n.body))
        break
      case 'BinaryExpression': case 'LogicalExpression':
        if (!isTarget.has(n)) { replace(n, `(${text(n.left)})`); replace(n, `(${text(n.right)})`) }
        break
      case 'ConditionalExpression':
        replace(n, `(${text(n.consequent)})`)
        replace(n, `(${text(n.alternate)})`)
        break
      case 'UnaryExpression': case 'UpdateExpression':
        if (!isTarget.has(n)) replace(n, `(${text(n.argument)})`)
        break
      case 'AssignmentExpression':
        if (parent?.type !== 'ExpressionStatement') replace(n, `(${text(n.right)})`)
        break
      case 'SequenceExpression':
        for (const e of n.expressions) replace(n, `(${text(e)})`)
        break
      case 'CallExpression':
        for (const a of n.arguments) replace(n, `(${text(a)})`)
        break
      case 'Literal':
        if (typeof n.value === 'number' && n.value !== 0 && n.value !== 1) replace(n, '0')
        break
      case 'MemberExpression':
        if (n.computed && !isTarget.has(n) && n.property.type !== 'Literal') replace(n.property, '0')
        break
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'type' || k === 'start' || k === 'end') continue
      if (Array.isArray(v)) v.forEach((c) => walk(c, n))
      else if (v && typeof v.type === 'string') walk(v, n)
    }
  }
  walk(ast, null)
  return out.filter((e) => e.size > 0).sort((a, b) => b.size - a.size)
}

function withSource(prog, which, source) {
  if (which === -1) return { ...prog, kernel: source }
  return { ...prog, helpers: prog.helpers.map((h, i) => (i === which ? { ...h, source } : h)) }
}

function dropUnused(prog) {
  const all = () => [prog.kernel, ...prog.helpers.map((h) => h.source)].join('\n')
  let changed = true
  while (changed) {
    changed = false
    for (const h of prog.helpers) {
      const others = [prog.kernel, ...prog.helpers.filter((x) => x !== h).map((x) => x.source)].join('\n')
      if (!new RegExp(`\\b${h.name}\\b`).test(others)) {
        prog = { ...prog, helpers: prog.helpers.filter((x) => x !== h) }
        changed = true
        break
      }
    }
  }
  const text = all()
  prog = { ...prog, constants: Object.fromEntries(Object.entries(prog.constants).filter(([n]) => new RegExp(`\\b${n}\\b`).test(text))) }
  return prog
}

/**
 * `fails(prog)` → whether it still fails as the original did. Returns the reduced program
 * (with one argument set) and how many candidates were tried.
 */
export async function reduce(prog, set, fails, { maxTries = 1500 } = {}) {
  let best = { ...prog, argSets: [prog.argSets[set]] }
  let tries = 0
  const attempt = async (candidate) => {
    tries++
    if (await fails(candidate)) {
      best = candidate
      return true
    }
    return false
  }
  if (!(await attempt(best))) return { prog: { ...prog, argSets: [prog.argSets[set]] }, tries, reproduced: false }
  let progress = true
  while (progress && tries < maxTries) {
    progress = false
    for (let which = -1; which < best.helpers.length && tries < maxTries; which++) {
      const source = which === -1 ? best.kernel : best.helpers[which].source
      for (const e of edits(source)) {
        if (tries >= maxTries) break
        if (await attempt(dropUnused(withSource(best, which, e.apply())))) {
          progress = true
          break
        }
      }
      if (progress) break
    }
    if (progress) continue
    // The arguments: shorter arrays, simpler numbers.
    const args = best.argSets[0].args
    for (let i = 0; i < args.length && !progress && tries < maxTries; i++) {
      const a = args[i]
      const variants = 'values' in a
        ? [a.values.slice(0, Math.floor(a.values.length / 2)), a.values.slice(Math.ceil(a.values.length / 2)), a.values.slice(0, a.values.length - 1)].filter((v) => v.length < a.values.length)
        : 'value' in a && typeof a.value === 'number' && a.value !== 0 && a.value !== 1 ? [0, 1] : []
      for (const v of variants) {
        const next = args.map((x, j) => (j !== i ? x : 'values' in a ? { ...a, values: v } : { value: v }))
        if (await attempt({ ...best, argSets: [{ ...best.argSets[0], args: next }] })) {
          progress = true
          break
        }
      }
    }
    if (!progress && best.argSets[0].zeroCopy && tries < maxTries) progress = await attempt({ ...best, argSets: [{ ...best.argSets[0], zeroCopy: false }] })
  }
  return { prog: best, tries, reproduced: true }
}
