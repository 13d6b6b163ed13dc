// Vite's SSR transform (Vitest, vite-node) rewrites imported names in function source to
// `__vite_ssr_import_0__.name` and calls to `(0, __vite_ssr_import_0__.name)(...)`. Kernels
// read through `fn.toString()` there, so both the compiler and the key see through it.

const ssrNamespace = /^__(vite_ssr_import|vi_import)_\d+__$/

/** Whether an identifier name is a namespace the SSR transform introduced. */
export function isSsrNamespace(name: string): boolean {
  return ssrNamespace.test(name)
}
