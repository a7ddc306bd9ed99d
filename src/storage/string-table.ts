/**
 * A set of strings numbered 0, 1, 2... in insertion order, held in typed arrays: an open-addressing hash
 * table over the strings' UTF-16 code units, copied into one growing buffer. Why not a `Map<string, number>`:
 * at a million keys, each insert of a freshly made string into the map's old-generation table costs a write
 * barrier and a remembered-set entry that every young-generation collection then walks, and the million
 * strings stay for every full collection to mark. Measured on the dispatcher benchmark, that was most of the
 * memory ledger's cost; here nothing per key is a heap object. Internal to the memory ledger.
 */
export class StringTable {
  private slots = new Int32Array(1 << 12);
  private hashes = new Uint32Array(1 << 11);
  private starts = new Float64Array(1 << 11);
  private lengths = new Uint32Array(1 << 11);
  private units = new Uint16Array(1 << 16);
  private used = 0;
  private count = 0;
  private prefix = "";
  private prefixHash = FNV_OFFSET;

  /** How many strings it holds. */
  get size(): number {
    return this.count;
  }

  /**
   * Names a prefix that many keys to come start with: their hash then resumes from the prefix's, so only the
   * rest of each key is read (the hash is the same either way, so a wrong hint only costs a comparison).
   */
  hintPrefix(prefix: string): void {
    if (prefix === this.prefix) return;
    this.prefix = prefix;
    this.prefixHash = fnv(FNV_OFFSET, prefix, 0);
  }

  /** The number of `key`, or -1 when absent. */
  find(key: string): number {
    return this.lookup(key, this.hashOf(key));
  }

  private hashOf(key: string): number {
    const { prefix } = this;
    const hash =
      prefix.length > 0 && key.length >= prefix.length && key.slice(0, prefix.length) === prefix
        ? fnv(this.prefixHash, key, prefix.length)
        : fnv(FNV_OFFSET, key, 0);
    return mix(hash);
  }

  /** The number of `key`, adding it first when absent. */
  add(key: string): number {
    const hash = this.hashOf(key);
    const found = this.lookup(key, hash);
    if (found >= 0) return found;
    const id = this.count++;
    if (id >= this.hashes.length) this.growRows();
    if (this.count << 1 > this.slots.length) this.rehash(this.slots.length << 1);
    while (this.used + key.length > this.units.length) this.units = grow(this.units, this.units.length * 2);
    const start = this.used;
    for (let i = 0; i < key.length; i++) this.units[start + i] = key.charCodeAt(i);
    this.used += key.length;
    this.hashes[id] = hash;
    this.starts[id] = start;
    this.lengths[id] = key.length;
    this.place(id, hash);
    return id;
  }

  /** The string numbered `id`. */
  keyAt(id: number): string {
    const start = this.starts[id]!;
    let out = "";
    // Chunks keep String.fromCharCode's argument list short.
    for (let at = start; at < start + this.lengths[id]!; at += 4096) {
      out += String.fromCharCode(...this.units.subarray(at, Math.min(at + 4096, start + this.lengths[id]!)));
    }
    return out;
  }

  private lookup(key: string, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      const id = entry - 1;
      if (this.hashes[id] === hash && this.equals(id, key)) return id;
    }
  }

  private equals(id: number, key: string): boolean {
    if (this.lengths[id] !== key.length) return false;
    const start = this.starts[id]!;
    for (let i = 0; i < key.length; i++) if (this.units[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private place(id: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let id = 0; id < this.count - 1; id++) this.place(id, this.hashes[id]!);
  }

  private growRows(): void {
    const size = this.hashes.length * 2;
    this.hashes = grow(this.hashes, size);
    this.starts = grow(this.starts, size);
    this.lengths = grow(this.lengths, size);
  }
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over the UTF-16 code units of `key` from `from`, resuming from `hash`. */
function fnv(hash: number, key: string, from: number): number {
  let h = hash;
  for (let i = from; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h;
}

/** A final mix, so linear probing sees well-spread low bits. */
function mix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
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
