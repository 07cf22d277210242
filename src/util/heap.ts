/**
 * @file heap.ts
 * @brief A binary min-heap ordered by a comparator (placement's candidate parents and leaves).
 *
 * Used lazily by the forest: entries carry the key they were pushed with and are checked when
 * popped (a node whose depth or spare capacity changed since is pushed again or dropped), so an
 * update never has to find an entry inside the heap.
 */

/** A min-heap: `pop` returns the item `before` orders first. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  /** @param before Strict order: true when a must come out before b. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  /** @brief Number of items. */
  get size(): number {
    return this.items.length;
  }

  /** @brief Adds an item. @param x The item. */
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!this.before(a[i], a[up])) break;
      [a[i], a[up]] = [a[up], a[i]];
      i = up;
    }
  }

  /** @brief The first item, left in place. @return It, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** @brief Removes and returns the first item. @return It, or undefined when empty. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
