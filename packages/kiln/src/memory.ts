// The one WebAssembly.Memory all kernels share: an allocator for it, typed arrays that live in
// it (passed to kernels with zero copy), and temporary staging for arrays that do not.
//
// Growth: growing a WebAssembly.Memory detaches every typed array over its old buffer. Kiln
// never lets that happen to an array it gave you: memory grows only while no `alloc`ated
// array is alive. While one is, an allocation that does not fit throws KILN_MEMORY_FULL, and
// a call whose arguments would need more staging room runs as plain JS (same results) with a
// one-time warning. Reserve room up front with `reserveMemory(bytes)`.

import { KilnError } from './errors.js'

const PAGE = 65536
/** Kept below 2 GiB so every length and byte offset fits in int32 (the compiler relies on it). */
export const MAX_PAGES = 32767
/** The most kernel memory can hold (just under 2 GiB). */
export const MAX_BYTES = MAX_PAGES * PAGE
const INITIAL_PAGES = 256
/** Bytes 0..HEAP_BASE stay unused, so no array ever sits at address 0. */
const HEAP_BASE = 64

export type TypedArray =
  | Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray

export type TypedArrayConstructor<T extends TypedArray = TypedArray> = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T
  readonly BYTES_PER_ELEMENT: number
  readonly name: string
}

interface Block { start: number; size: number }

export class KernelMemory {
  readonly memory: WebAssembly.Memory
  /** The current buffer; replaced only when memory grows. */
  buffer: ArrayBuffer
  /** Free blocks sorted by address. */
  private freeBlocks: Block[] = []
  private sizes = new Map<number, number>()
  /**
   * User allocations, start → view. Held strongly and freed only by free(): freeing when a
   * view is collected would leave its subarrays pointing at memory handed out again.
   */
  private views = new Map<number, TypedArray>()
  private viewSet = new WeakSet<TypedArray>()
  private warnedFull = false

  constructor(initialPages = INITIAL_PAGES) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES })
    this.buffer = this.memory.buffer
    this.freeBlocks.push({ start: HEAP_BASE, size: this.buffer.byteLength - HEAP_BASE })
  }

  /** Whether a live `alloc`ated array would be detached by growth. */
  private hasLiveViews(): boolean {
    return this.views.size > 0
  }

  /** Allocates `size` bytes aligned to 8; grows memory if allowed; null if it cannot. */
  private reserve(size: number): number | null {
    // Arithmetic, not `(size + 7) & ~7`, which wraps negative at 2 GiB and would corrupt the free list.
    if (!(size >= 0) || size > MAX_BYTES) return null
    const need = Math.ceil(size / 8) * 8 || 8
    for (let i = 0; i < this.freeBlocks.length; i++) {
      const b = this.freeBlocks[i]
      if (b.size >= need) {
        const start = b.start
        if (b.size === need) this.freeBlocks.splice(i, 1)
        else {
          b.start += need
          b.size -= need
        }
        this.sizes.set(start, need)
        return start
      }
    }
    if (!this.grow(need)) return null
    return this.reserve(size)
  }

  private grow(need: number): boolean {
    if (this.hasLiveViews()) return false
    const current = this.memory.buffer.byteLength / PAGE
    const pages = Math.min(MAX_PAGES, Math.max(current * 2, current + Math.ceil(need / PAGE) + 1))
    if (pages <= current) return false
    const oldEnd = this.buffer.byteLength
    try {
      this.memory.grow(pages - current)
    } catch {
      return false
    }
    this.buffer = this.memory.buffer
    this.addFree({ start: oldEnd, size: this.buffer.byteLength - oldEnd })
    return true
  }

  private addFree(block: Block): void {
    let i = 0
    while (i < this.freeBlocks.length && this.freeBlocks[i].start < block.start) i++
    this.freeBlocks.splice(i, 0, block)
    // Coalesce with the neighbours.
    const next = this.freeBlocks[i + 1]
    if (next && block.start + block.size === next.start) {
      block.size += next.size
      this.freeBlocks.splice(i + 1, 1)
    }
    const prev = this.freeBlocks[i - 1]
    if (prev && prev.start + prev.size === block.start) {
      prev.size += block.size
      this.freeBlocks.splice(i, 1)
    }
  }

  /** Frees a block from `reserve`. */
  release(start: number): void {
    const size = this.sizes.get(start)
    if (size === undefined) return
    this.sizes.delete(start)
    this.addFree({ start, size })
  }

  /** Temporary room for one call's copied arguments, or null (the caller runs plain JS). */
  stage(size: number): number | null {
    const p = this.reserve(size)
    if (p === null && !this.warnedFull) {
      this.warnedFull = true
      console.warn(size > MAX_BYTES - HEAP_BASE
        ? `[kiln] KILN_MEMORY_FULL: a call's copied arrays need ${size} bytes, more than kernel memory can hold (${MAX_BYTES} bytes); such calls run as plain JS. Pass arrays from alloc() to avoid copies.`
        : `[kiln] KILN_MEMORY_FULL: kernel memory cannot grow while arrays from alloc() are alive; calls that need ${size} bytes of staging run as plain JS. Call reserveMemory(bytes) before allocating.`)
    }
    return p
  }

  /**
   * Room for one call's copied arrays when they are small: one block every such call reuses
   * (calls are synchronous and never overlap), so a call over 4×4 matrices costs no allocator
   * work. It grows up to `ARENA_MAX`; larger stagings take `stage` and are released after.
   */
  callArena(size: number): number | null {
    if (size > ARENA_MAX) return null
    if (this.arena !== null && this.arena.size >= size) return this.arena.start
    if (this.arena !== null) this.release(this.arena.start)
    this.arena = null
    const want = Math.min(ARENA_MAX, Math.max(size, 4096))
    const start = this.reserve(want)
    if (start === null) return null
    this.arena = { start, size: want }
    return start
  }

  private arena: Block | null = null

  /** Permanent room (a module's constant region). */
  permanent(size: number): number {
    const p = this.reserve(size)
    if (p === null) throw KilnError.of('KILN_MEMORY_FULL', `kernel memory cannot grow by ${size} bytes while arrays from alloc() are alive`, ['call reserveMemory(bytes) before allocating arrays'])
    return p
  }

  alloc<T extends TypedArray>(ctor: TypedArrayConstructor<T>, length: number): T {
    if (!Number.isInteger(length) || length < 0) throw KilnError.of('KILN_BAD_ARGUMENT', `alloc: length must be a non-negative integer, got ${String(length)}`)
    if (typeof ctor !== 'function' || !(typeof ctor.BYTES_PER_ELEMENT === 'number')) throw KilnError.of('KILN_BAD_ARGUMENT', 'alloc: the first argument must be a typed-array class, such as Float64Array')
    const bytes = length * ctor.BYTES_PER_ELEMENT
    if (bytes > MAX_BYTES - HEAP_BASE) {
      throw KilnError.of('KILN_MEMORY_FULL', `cannot allocate ${bytes} bytes: kernel memory holds at most ${MAX_BYTES} bytes`, ['use smaller arrays, or ordinary typed arrays (calls with arrays this large run as plain JS)'])
    }
    const start = this.reserve(bytes)
    if (start === null) {
      throw KilnError.of('KILN_MEMORY_FULL', this.hasLiveViews()
        ? `cannot allocate ${bytes} bytes: kernel memory is full, and growing it would detach ${this.views.size} live array(s) from alloc()`
        : `cannot allocate ${bytes} bytes: kernel memory cannot grow that far (it holds at most ${MAX_BYTES} bytes)`, [
        'call reserveMemory(totalBytes) before the first alloc(), or free(array) arrays you no longer need',
      ])
    }
    const view = new ctor(this.buffer, start, length)
    view.fill(0 as never)
    this.views.set(start, view)
    this.viewSet.add(view)
    return view
  }

  free(view: TypedArray): void {
    const start = view.byteOffset
    if (view.buffer !== this.buffer || this.views.get(start) !== view) {
      throw KilnError.of('KILN_DETACHED_ARRAY', 'free: this array was not allocated with alloc(), or was already freed')
    }
    this.views.delete(start)
    this.viewSet.delete(view)
    this.release(start)
  }

  /** Grows memory so that at least `bytes` more can be allocated; only while no alloc()ated array is alive. */
  reserveMemory(bytes: number): void {
    if (!(bytes >= 0)) throw KilnError.of('KILN_BAD_ARGUMENT', `reserveMemory: bytes must be a non-negative number, got ${String(bytes)}`)
    if (bytes > MAX_BYTES - HEAP_BASE) throw KilnError.of('KILN_MEMORY_FULL', `cannot reserve ${bytes} bytes: kernel memory holds at most ${MAX_BYTES} bytes`)
    const p = this.reserve(bytes)
    if (p === null) {
      throw KilnError.of('KILN_MEMORY_FULL', `cannot reserve ${bytes} bytes: growing kernel memory now would detach live arrays from alloc()`, ['reserve memory before the first alloc()'])
    }
    this.release(p)
  }

  /** Whether `view` is an array alloc() made and free() has not released (a zero-copy argument as it is). */
  isAllocated(view: TypedArray): boolean {
    return this.viewSet.has(view)
  }

  /**
   * Checks that a view over kernel memory is inside a live allocation (not freed): passing a
   * freed array would read memory that now belongs to someone else.
   */
  checkLive(view: TypedArray): void {
    if (this.viewSet.has(view)) return
    const start = view.byteOffset
    const end = start + view.byteLength
    for (const [s, v] of this.views) {
      if (start >= s && end <= s + v.byteLength) return
    }
    throw KilnError.of('KILN_DETACHED_ARRAY', 'an array over kernel memory was passed to a kernel after free(), or was not made by alloc()', [
      'allocate arrays for kernels with alloc(Float64Array, n) and keep them until the last call',
    ])
  }

  stats(): { bytes: number; pages: number; liveArrays: number; freeBytes: number } {
    return {
      bytes: this.buffer.byteLength,
      pages: this.buffer.byteLength / PAGE,
      liveArrays: this.views.size,
      freeBytes: this.freeBlocks.reduce((n, b) => n + b.size, 0),
    }
  }
}

let shared: KernelMemory | null = null

/** The largest staging `callArena` keeps between calls. */
const ARENA_MAX = 64 * 1024

/** The process-wide (or page-wide) kernel memory, created on first use. */
export function kernelMemory(): KernelMemory {
  return (shared ??= new KernelMemory())
}

/** A typed array of `length` zeros that lives in kernel memory: kernels read and write it in place. */
export function alloc<T extends TypedArray>(ctor: TypedArrayConstructor<T>, length: number): T {
  return kernelMemory().alloc(ctor, length)
}

/**
 * An `ImageData` whose pixels live in kernel memory, for canvas code: kernels read and write
 * `image.data` in place (no copy per call), and `ctx.putImageData(image, 0, 0)` draws it. Release
 * it with `free(image.data)`. Only where the platform has `ImageData` (browsers, workers).
 */
export function allocImageData(width: number, height: number): ImageData {
  const Image = (globalThis as { ImageData?: typeof ImageData }).ImageData
  if (typeof Image !== 'function') throw KilnError.of('KILN_BAD_ARGUMENT', 'allocImageData: this platform has no ImageData (it is a browser API); use alloc(Uint8ClampedArray, width * height * 4) for the pixels')
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw KilnError.of('KILN_BAD_ARGUMENT', `allocImageData: width and height must be positive integers, got ${String(width)} × ${String(height)}`)
  const pixels = alloc(Uint8ClampedArray, width * height * 4)
  try {
    return new Image(pixels, width, height)
  } catch (error) {
    free(pixels)
    throw error
  }
}

/** Returns an `alloc`ated array's memory. Neither it nor its subarrays may be used afterwards. */
export function free(view: TypedArray): void {
  kernelMemory().free(view)
}

/** Makes room for `bytes` of allocations up front (growth is only possible while no allocated array is alive). */
export function reserveMemory(bytes: number): void {
  kernelMemory().reserveMemory(bytes)
}
