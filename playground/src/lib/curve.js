// A tone curve only the `tone` kernel uses: an edit here is hot-swapped in place under `vite dev`
// (no module runs again, the page keeps its state).
export function curve(x, k) {
  return x / (x + k * (1 - x))
}
