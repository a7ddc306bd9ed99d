/**
 * A set of (space, string) keys numbered 0, 1, 2... in insertion order, held in typed arrays: an
 * open-addressing hash table whose slots hold each key's hash next to its number, over the strings' UTF-16
 * code units copied into one growing buffer. The space is a small number that partitions the keys: the memory
 * ledger stores a message id `m:...:<channel>:<recipient>` as (its interned prefix, its recipient id), so a
 * key is a few characters rather than forty, hashed, compared and copied in a fraction of the time.
 *
 * Why not a `Map<string, number>`: at a million keys, each insert of a freshly made string into the map's
 * old-generation table costs a write barrier and a remembered-set entry that every young-generation
 * collection then walks, and the million strings stay for every full collection to mark. Here nothing per
 * key is a heap object. Why the hash sits in the slot: a probe that meets another key is then decided without
 * touching that key's row, which at a million rows is a cache miss. Internal to the memory ledger.
 */
export class StringTable {
  /** Pairs (hash, number + 1); 0 in the second marks an empty slot. */
  private slots = new Int32Array(2 << 12);
  private spaces = new Uint32Array(1 << 11);
  private starts = new Float64Array(1 << 11);
  private lengths = new Uint32Array(1 << 11);
  private units = new Uint16Array(1 << 14);
  private used = 0;
  private count = 0;

  /** How many keys it holds. */
  get size(): number {
    return this.count;
  }

  /** The number of (`space`, `key`), or -1 when absent. */
  find(space: number, key: string): number {
    const hash = hashOf(space, key);
    const { slots } = this;
    const mask = (slots.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[(slot << 1) + 1]!;
      if (entry === 0) return -1;
      if (slots[slot << 1] === hash && this.equals(entry - 1, space, key)) return entry - 1;
    }
  }

  /**
   * The number of (`space`, `key`), adding it first when absent: a new key gets the number {@link size} had
   * before the call, so `add(...) === sizeBefore` tells a new key from a known one.
   */
  add(space: number, key: string): number {
    const hash = hashOf(space, key);
    let { slots } = this;
    let mask = (slots.length >> 1) - 1;
    let slot = hash & mask;
    for (; ; slot = (slot + 1) & mask) {
      const entry = slots[(slot << 1) + 1]!;
      if (entry === 0) break;
      if (slots[slot << 1] === hash && this.equals(entry - 1, space, key)) return entry - 1;
    }
    const id = this.count++;
    if (id >= this.lengths.length) this.growRows();
    if (this.count << 1 > slots.length >> 1) {
      this.rehash(slots.length << 1);
      slots = this.slots;
      mask = (slots.length >> 1) - 1;
      slot = hash & mask;
      while (slots[(slot << 1) + 1] !== 0) slot = (slot + 1) & mask;
    }
    slots[slot << 1] = hash;
    slots[(slot << 1) + 1] = id + 1;
    const n = key.length;
    if (this.used + n > this.units.length) {
      let size = this.units.length * 2;
      while (this.used + n > size) size *= 2;
      this.units = grow(this.units, size);
    }
    const start = this.used;
    const { units } = this;
    for (let i = 0; i < n; i++) units[start + i] = key.charCodeAt(i);
    this.used += n;
    this.spaces[id] = space;
    this.starts[id] = start;
    this.lengths[id] = n;
    return id;
  }

  /** The string of the key numbered `id`. */
  keyAt(id: number): string {
    const start = this.starts[id]!;
    const end = start + this.lengths[id]!;
    let out = "";
    // Chunks keep String.fromCharCode's argument list short.
    for (let at = start; at < end; at += 4096) {
      out += String.fromCharCode(...this.units.subarray(at, Math.min(at + 4096, end)));
    }
    return out;
  }

  private equals(id: number, space: number, key: string): boolean {
    const n = key.length;
    if (this.lengths[id] !== n || this.spaces[id] !== space) return false;
    const start = this.starts[id]!;
    const { units } = this;
    for (let i = 0; i < n; i++) if (units[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private rehash(size: number): void {
    const old = this.slots;
    const slots = new Int32Array(size);
    const mask = (size >> 1) - 1;
    for (let at = 0; at < old.length; at += 2) {
      const entry = old[at + 1]!;
      if (entry === 0) continue;
      const hash = old[at]!;
      let slot = hash & mask;
      while (slots[(slot << 1) + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot << 1] = hash;
      slots[(slot << 1) + 1] = entry;
    }
    this.slots = slots;
  }

  private growRows(): void {
    const size = this.lengths.length * 2;
    this.spaces = grow(this.spaces, size);
    this.starts = grow(this.starts, size);
    this.lengths = grow(this.lengths, size);
  }
}

const FNV_OFFSET = 0x811c9dc5;

/** The hash of a key: FNV-1a over the space and the key's UTF-16 code units, then murmur3's final mix. */
function hashOf(space: number, key: string): number {
  let h = Math.imul(FNV_OFFSET ^ space, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** A copy of `array` with room for `size` elements. */
export function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
  array: T,
  size: number,
): T {
  if (size <= array.length) return array;
  const next = new (array.constructor as new (length: number) => T)(size);
  next.set(array);
  return next;
}
