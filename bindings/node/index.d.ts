/// <reference types="node" />
// Type declarations for @libdashmap/dashmap (CommonJS and ESM entries).

/** What keys and values may be: strings are stored as UTF-8. */
export type Bytes = string | Buffer | Uint8Array;

export interface DashMapOptions {
  /** Entries to pre-allocate room for (default 0). */
  capacity?: number;
  /** 0 (default: 4 x CPUs rounded to a power of two, at least 64) or a power of two in [2, 65536]. */
  shards?: number;
  /** 'siphash' (default, HashDoS-resistant) or 'fast' (foldhash, for trusted keys). */
  hasher?: 'siphash' | 'fast';
  /** 0 (default) = random per map; otherwise reproducible hashing. Up to 2^64 - 1. */
  seed?: number | bigint;
  /** 0 (default) = unbounded; otherwise a new key beyond this many entries throws DM_ERR_FULL. */
  maxEntries?: number;
  /** true = TTL deadlines follow a clock only setClock() moves (starts at 0). */
  manualClock?: boolean;
}

/** A token made by DashMap#share(), to be posted to a worker thread. */
export interface DashMapToken {
  readonly __dashmap: bigint;
  readonly version: number;
  readonly pid: number;
  readonly claim: SharedArrayBuffer;
}

export interface DashMapStats {
  len: number;
  capacity: number;
  shards: number;
  minShardLen: number;
  maxShardLen: number;
  keyBytes: number;
  valueBytes: number;
}

/** Status codes of libdashmap (dm_status). */
export declare const Status: Readonly<{
  DM_OK: 0;
  DM_NOT_FOUND: 1;
  DM_REPLACED: 2;
  DM_EXISTS: 3;
  DM_MISMATCH: 4;
  DM_BUFFER_TOO_SMALL: 5;
  DM_STOPPED: 6;
  DM_ERR_NULL: -1;
  DM_ERR_INVALID: -2;
  DM_ERR_NO_MEMORY: -3;
  DM_ERR_REENTRANT: -4;
  DM_ERR_PANIC: -5;
  DM_ERR_FULL: -6;
}>;

export type StatusName = keyof typeof Status;

/** An error status from libdashmap. */
export declare class DashMapError extends Error {
  /** The status name, e.g. 'DM_ERR_REENTRANT'. */
  readonly code: StatusName | 'DM_UNKNOWN_STATUS';
  /** The numeric dm_status. */
  readonly status: number;
}

/** Returned from an update() callback to leave the entry unchanged. */
export declare const KEEP: unique symbol;

/**
 * A concurrent hash map from byte strings to byte strings, shareable between
 * worker_threads. Keys and values are given as string | Buffer | Uint8Array
 * and always come back as Buffers (copies).
 */
export declare class DashMap implements Iterable<[Buffer, Buffer]> {
  constructor(options?: DashMapOptions);

  /** Same as DashMap.KEEP exported at top level. */
  static readonly KEEP: typeof KEEP;

  /** A new map filled from [key, value] pairs with one batch call. */
  static from(entries: Iterable<readonly [Bytes, Bytes]>, options?: DashMapOptions): DashMap;

  /** Opens the map behind a token (adopting the reference it carries; single use). */
  static fromShared(token: DashMapToken): DashMap;

  /** Drops the reference of a token that will never be adopted; false if it already was. */
  static releaseShared(token: DashMapToken): boolean;

  // Map interface
  readonly size: number;
  /** Inserts or replaces as a whole new entry; `ttlMs` > 0 makes it expire (0/undefined: never). */
  set(key: Bytes, value: Bytes, ttlMs?: number): this;
  get(key: Bytes): Buffer | undefined;
  getString(key: Bytes, encoding?: BufferEncoding): string | undefined;
  has(key: Bytes): boolean;
  delete(key: Bytes): boolean;
  clear(): void;
  forEach(callback: (value: Buffer, key: Buffer, map: this) => void, thisArg?: unknown): void;
  keys(): IterableIterator<Buffer>;
  keys(encoding: BufferEncoding): IterableIterator<string>;
  values(): IterableIterator<Buffer>;
  values(encoding: BufferEncoding): IterableIterator<string>;
  entries(): IterableIterator<[Buffer, Buffer]>;
  entries(encoding: BufferEncoding): IterableIterator<[string, string]>;
  [Symbol.iterator](): IterableIterator<[Buffer, Buffer]>;
  readonly [Symbol.toStringTag]: string;

  // Beyond Map
  /** Removes the key and returns its value. */
  take(key: Bytes): Buffer | undefined;
  /** Adds to an 8-byte little-endian int64 counter; number when safe, else bigint. */
  /** With `ttlMs`, a counter this call creates expires then (later adds keep the deadline). */
  add(key: Bytes, delta: number | bigint, ttlMs?: number): number | bigint;
  /** Reads a counter written by add(). */
  getCounter(key: Bytes): number | bigint | undefined;
  /** Atomic read-modify-write: return a new value, undefined to delete, or KEEP. */
  update(key: Bytes, fn: (old: Buffer | undefined) => Bytes | undefined | typeof KEEP): Buffer | undefined;
  tryInsert(key: Bytes, value: Bytes, ttlMs?: number): boolean;
  getOrInsert(key: Bytes, value: Bytes): Buffer;
  /** `expected === undefined` means "only if absent". */
  compareAndSwap(key: Bytes, expected: Bytes | undefined, value: Bytes): boolean;
  compareAndDelete(key: Bytes, expected: Bytes): boolean;
  swap(key: Bytes, value: Bytes): Buffer | undefined;
  /** Keeps entries for which fn is truthy; returns how many were removed. */
  retain(fn: (value: Buffer, key: Buffer) => unknown): number;

  // Time-to-live
  /** New TTL for a live entry (0 removes it); false when absent or expired. */
  expire(key: Bytes, ttlMs: number): boolean;
  /** Renews a live entry's TTL to `ttlMs` (> 0) from now; false when absent or expired. */
  touch(key: Bytes, ttlMs: number): boolean;
  /** Milliseconds left, Infinity without a TTL, undefined when absent or expired. */
  ttl(key: Bytes): number | undefined;
  /** Removes expired entries (which `size` still counts); returns how many. */
  purgeExpired(): number;
  /** The map's clock in milliseconds. */
  now(): number;
  /** Sets the manual clock (maps created with manualClock: true). */
  setClock(ms: number): void;

  // Batches (one FFI call each)
  setMany(entries: Iterable<readonly [Bytes, Bytes]>): this;
  getMany(keys: Iterable<Bytes>): Array<Buffer | undefined>;
  deleteMany(keys: Iterable<Bytes>): number;

  stats(): DashMapStats;
  readonly capacity: number;
  readonly shardCount: number;
  shrinkToFit(): void;

  // Sharing and lifetime
  share(): DashMapToken;
  close(): void;
  readonly closed: boolean;
  [Symbol.dispose](): void;
}

/** The loaded libdashmap's version, e.g. "0.1.0". */
export declare function libraryVersion(): string;
/** The path or name the library was loaded from. */
export declare const libraryPath: string;

export default DashMap;
