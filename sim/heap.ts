/**
 * @file heap.ts
 * @brief Allocation-free event queue for the simulator, plus its seeded random numbers.
 *
 * A binary min-heap over parallel typed arrays: an event is (time, kind, a, b, c), ordered by
 * time and then by insertion order, so runs are deterministic for a seed. Millions of chunk
 * deliveries go through it without creating one object per event.
 */

/** Initial capacity of the heap; it doubles when full. */
const INITIAL_CAPACITY = 1 << 16;

/** Min-heap of events keyed by (time, insertion order). */
export class EventHeap {
  private time: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private order: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private kind: Uint8Array = new Uint8Array(INITIAL_CAPACITY);
  private a: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private b: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private c: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private n = 0;
  private counter = 0;
  /** Fields of the last popped event. */
  readonly top = { time: 0, kind: 0, a: 0, b: 0, c: 0 };

  /** @brief Number of queued events. */
  get size(): number {
    return this.n;
  }

  /**
   * @brief Queues an event.
   * @param time Simulated time, ms.
   * @param kind Event kind (the caller's enum).
   * @param a First integer argument.
   * @param b Second integer argument.
   * @param c Third integer argument.
   */
  push(time: number, kind: number, a: number, b: number, c = 0): void {
    if (this.n === this.time.length) this.grow();
    let i = this.n++;
    const ord = this.counter++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p] < time || (this.time[p] === time && this.order[p] < ord)) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, time, ord, kind, a, b, c);
  }

  /**
   * @brief Removes the earliest event into `top`.
   * @return false when the heap is empty.
   */
  pop(): boolean {
    if (this.n === 0) return false;
    const t = this.top;
    t.time = this.time[0];
    t.kind = this.kind[0];
    t.a = this.a[0];
    t.b = this.b[0];
    t.c = this.c[0];
    const last = --this.n;
    if (last === 0) return true;
    const time = this.time[last];
    const ord = this.order[last];
    const kind = this.kind[last];
    const a = this.a[last];
    const b = this.b[last];
    const c3 = this.c[last];
    let i = 0;
    for (;;) {
      let k = 2 * i + 1;
      if (k >= last) break;
      if (k + 1 < last && this.less(k + 1, k)) k++;
      if (time < this.time[k] || (time === this.time[k] && ord < this.order[k])) break;
      this.move(k, i);
      i = k;
    }
    this.set(i, time, ord, kind, a, b, c3);
    return true;
  }

  private less(i: number, j: number): boolean {
    return this.time[i] < this.time[j] || (this.time[i] === this.time[j] && this.order[i] < this.order[j]);
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.order[to] = this.order[from];
    this.kind[to] = this.kind[from];
    this.a[to] = this.a[from];
    this.b[to] = this.b[from];
    this.c[to] = this.c[from];
  }

  private set(i: number, time: number, ord: number, kind: number, a: number, b: number, c: number): void {
    this.time[i] = time;
    this.order[i] = ord;
    this.kind[i] = kind;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const f64 = (old: Float64Array): Float64Array => { const x = new Float64Array(cap); x.set(old); return x; };
    const i32 = (old: Int32Array): Int32Array => { const x = new Int32Array(cap); x.set(old); return x; };
    this.time = f64(this.time);
    this.order = f64(this.order);
    const k = new Uint8Array(cap);
    k.set(this.kind);
    this.kind = k;
    this.a = i32(this.a);
    this.b = i32(this.b);
    this.c = i32(this.c);
  }
}

/**
 * @brief Seeded uniform random numbers in [0, 1) (mulberry32: small, fast, good enough for a sim).
 * @param seed Any 32-bit integer.
 * @return A generator function.
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @brief Deterministic value in [0, 1) for a pair of integers (per-link latency without storage).
 * @param x First integer (e.g. the parent's index).
 * @param y Second integer (e.g. the child's index).
 * @return A hash of the pair scaled to [0, 1).
 */
export function pairHash(x: number, y: number): number {
  let h = Math.imul(x ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(y + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
