'use strict';
// @libdashmap/dashmap: a Map-like class over libdashmap's C API (via koffi).
//
// Design notes (the README has the user-facing version):
//   - Every method is one synchronous FFI call (plus a retry when an output
//     buffer was too small). Batches (setMany/getMany/deleteMany) pack all
//     their byte strings into one arena and make exactly one call.
//   - Keys and values are byte strings. Strings are passed to koffi as-is
//     (it encodes UTF-8 in its call arena); Uint8Arrays are passed by address.
//   - Reads copy into a reusable module-level scratch buffer and then into a
//     fresh Buffer of the right size. No JS runs between a C call and the
//     read of its outputs, so module-level buffers are safe; calls that run
//     JS callbacks (update, retain) never use them across the callback.
//   - Callbacks are transient koffi callbacks (valid only during the call).
//     The binding's trampolines catch every JS exception, tell C the safe
//     answer (keep / no change), and rethrow once the C call has returned.

const util = require('node:util');
const { isMainThread } = require('node:worker_threads');
const { koffi, C, copyOut, libraryPath } = require('./lib/native.js');

// ---------------------------------------------------------------------------
// Statuses and errors

const Status = Object.freeze({
  DM_OK: 0,
  DM_NOT_FOUND: 1,
  DM_REPLACED: 2,
  DM_EXISTS: 3,
  DM_MISMATCH: 4,
  DM_BUFFER_TOO_SMALL: 5,
  DM_STOPPED: 6,
  DM_ERR_NULL: -1,
  DM_ERR_INVALID: -2,
  DM_ERR_NO_MEMORY: -3,
  DM_ERR_REENTRANT: -4,
  DM_ERR_PANIC: -5,
  DM_ERR_FULL: -6,
});
const STATUS_NAME = new Map(Object.entries(Status).map(([k, v]) => [v, k]));
const { DM_OK, DM_NOT_FOUND, DM_REPLACED, DM_EXISTS, DM_MISMATCH, DM_BUFFER_TOO_SMALL,
  DM_ERR_INVALID, DM_ERR_REENTRANT } = Status;

const EXPECTED_MAJOR = 0;
const EXPECTED_MINOR = 1;
{
  const v = C.dm_version_number();
  const major = Math.floor(v / 10000);
  const minor = Math.floor(v / 100) % 100;
  if (major !== EXPECTED_MAJOR || minor < EXPECTED_MINOR) {
    const e = new Error(`libdashmap ${C.dm_version()} at ${libraryPath} is incompatible: ` +
      `this binding needs ${EXPECTED_MAJOR}.${EXPECTED_MINOR}.x or a later 0.x minor`);
    e.code = 'ERR_DASHMAP_VERSION';
    throw e;
  }
}

/** An error status returned by libdashmap. `code` is the status name, `status` its number. */
class DashMapError extends Error {
  constructor(status, operation, detail) {
    const code = STATUS_NAME.get(status) || 'DM_UNKNOWN_STATUS';
    let msg = `${operation}: ${C.dm_status_str(status)} (${code})`;
    if (detail) msg += `: ${detail}`;
    super(msg);
    this.name = 'DashMapError';
    this.code = code;
    this.status = status;
  }
}

const REENTRANT_DETAIL = 'this map was used from inside one of its own update()/retain() callbacks';

function fail(status, operation, detail) {
  if (detail === undefined && status === DM_ERR_REENTRANT) detail = REENTRANT_DETAIL;
  throw new DashMapError(status, operation, detail);
}

function reentrantError(operation) {
  return new DashMapError(DM_ERR_REENTRANT, operation, REENTRANT_DETAIL);
}

function closedError(operation) {
  const e = new Error(`DashMap.${operation}: the map is closed`);
  e.code = 'ERR_DASHMAP_CLOSED';
  return e;
}

// ---------------------------------------------------------------------------
// Argument checks

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v.constructor && v.constructor.name) || 'object';
  return typeof v;
}

// Byte length of a key or value, or TypeError for anything that is not a
// string (UTF-8), Buffer or Uint8Array.
function byteLen(v, what) {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v instanceof Uint8Array || util.types.isUint8Array(v)) return v.byteLength;
  throw new TypeError(`${what} must be a string, Buffer or Uint8Array (got ${describe(v)})`);
}

function checkFunction(fn, what) {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function (got ${describe(fn)})`);
}

function checkEncoding(encoding) {
  if (encoding === undefined) return;
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
    throw new TypeError(`encoding must be a Buffer encoding such as 'utf8' or 'hex' (got ${String(encoding)})`);
  }
}

// A private copy of a value as a Buffer (what getOrInsert/update hand back).
function toBuffer(v) {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v); // copies a Uint8Array
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO63 = 2 ** 63;

function checkDelta(delta) {
  if (typeof delta === 'number') {
    if (!Number.isInteger(delta) || delta < -TWO63 || delta >= TWO63) {
      throw new RangeError(`delta must be an integer in the int64 range (got ${delta})`);
    }
  } else if (typeof delta === 'bigint') {
    if (delta < INT64_MIN || delta > INT64_MAX) {
      throw new RangeError(`delta must fit in an int64 (got ${delta})`);
    }
  } else {
    throw new TypeError(`delta must be a number or a bigint (got ${describe(delta)})`);
  }
}

// A time-to-live in milliseconds: a non-negative safe integer (0 = never
// expires, where the C function allows it).
function checkTtl(ttl, what = 'ttlMs') {
  if (typeof ttl !== 'number') throw new TypeError(`${what} must be a number of milliseconds (got ${describe(ttl)})`);
  if (!Number.isSafeInteger(ttl) || ttl < 0) throw new RangeError(`${what} must be a non-negative integer (got ${ttl})`);
}

// ---------------------------------------------------------------------------
// Reusable memory. Out-parameters are 8-byte slots in one ArrayBuffer;
// `rd(i)` reads slot i as a size_t without allocating a BigInt.

const OUT = new ArrayBuffer(32);
const OUT_U32 = new Uint32Array(OUT);
const OUT_I32 = new Int32Array(OUT);
const OUT_U64 = new BigUint64Array(OUT);
const OUT_I64 = new BigInt64Array(OUT);
const S0 = new BigUint64Array(OUT, 0, 1);
const S1 = new BigUint64Array(OUT, 8, 1);
const S2 = new BigUint64Array(OUT, 16, 1);
const S3 = new BigUint64Array(OUT, 24, 1);
const TWO32 = 4294967296;

function rd(i) {
  return OUT_U32[2 * i] + OUT_U32[2 * i + 1] * TWO32;
}

// Reads slot 0 as an int64: a number when it is a safe integer, else a BigInt.
function readI64() {
  const hi = OUT_I32[1];
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * TWO32 + OUT_U32[0];
    if (Number.isSafeInteger(v)) return v;
  }
  return OUT_I64[0];
}

// Values up to SCRATCH_MAX bytes are read through `scratch`, which grows on
// demand; larger ones get a buffer of their own.
const SCRATCH_MAX = 1 << 20;
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

function growScratch(need) {
  let n = scratch.length;
  while (n < need) n *= 2;
  scratch = Buffer.allocUnsafeSlow(Math.min(n, SCRATCH_MAX));
}

function fromScratch(len) {
  return copyRange(scratch, 0, len);
}

// Calls `call(buf, cap)` (a C function that writes a value's length to slot
// 0 and answers DM_BUFFER_TOO_SMALL when it does not fit) until the value
// fits. Returns the status; `takeOut()` then gives the bytes.
let bigOut = null;
function negotiate(call) {
  bigOut = null;
  let st = call(scratch, scratch.length);
  while (st === DM_BUFFER_TOO_SMALL) {
    const need = rd(0);
    if (need <= SCRATCH_MAX) {
      growScratch(need);
      st = call(scratch, scratch.length);
    } else {
      const big = Buffer.allocUnsafeSlow(need);
      st = call(big, need);
      if (st !== DM_BUFFER_TOO_SMALL) bigOut = big;
    }
  }
  return st;
}

function takeOut() {
  const len = rd(0);
  if (bigOut !== null) {
    const b = bigOut;
    bigOut = null;
    return len === b.length ? b : b.subarray(0, len);
  }
  return fromScratch(len);
}

// Batches: every byte string of a call is packed into `arena`, and a table
// of dm_slice {ptr, len} (16 bytes each) is built next to it.
const ARENA_KEEP = 4 << 20;
let arena = Buffer.allocUnsafeSlow(64 * 1024);
let table = Buffer.allocUnsafeSlow(16 * 1024);
let bulkOut = Buffer.allocUnsafeSlow(64 * 1024);
let lensScratch = Buffer.allocUnsafeSlow(8 * 1024);

function ensure(buf, need) {
  if (buf.length >= need) return buf;
  let n = buf.length;
  while (n < need) n *= 2;
  return Buffer.allocUnsafeSlow(n);
}

// Measures a list of byte strings for packing: their lengths, their total,
// and, when they are all ASCII strings, their concatenation (written with a
// single call instead of one native call per item). Non-ASCII strings are
// encoded one by one: encoding a concatenation is not the concatenation of
// the encodings when a lone surrogate meets its other half.
class Measured {
  constructor(items, label) {
    const n = items.length;
    const lens = new Array(n);
    let total = 0;
    let allStrings = true;
    for (let i = 0; i < n; i++) {
      if (typeof items[i] !== 'string') {
        allStrings = false;
        break;
      }
    }
    this.joined = null;
    if (allStrings && n > 1) {
      const joined = items.join('');
      if (Buffer.byteLength(joined, 'utf8') === joined.length) {
        for (let i = 0; i < n; i++) lens[i] = items[i].length;
        this.joined = joined;
        total = joined.length;
      }
    }
    if (this.joined === null) {
      for (let i = 0; i < n; i++) {
        const l = byteLen(items[i], label(i));
        lens[i] = l;
        total += l;
      }
    }
    this.items = items;
    this.lens = lens;
    this.total = total;
  }
}

// Packs measured lists into `arena` and builds their dm_slice table
// {ptr, len} (16 bytes per slice) in `table`. Off-heap buffers never move,
// and no JS runs between packing and the C call.
class Packer {
  constructor(totalBytes, nSlices) {
    this.data = totalBytes <= ARENA_KEEP ? (arena = ensure(arena, totalBytes)) : Buffer.allocUnsafeSlow(totalBytes);
    this.slices = nSlices * 16 <= ARENA_KEEP ? (table = ensure(table, nSlices * 16)) : Buffer.allocUnsafeSlow(nSlices * 16);
    this.u32 = new Uint32Array(this.slices.buffer, this.slices.byteOffset, nSlices * 4);
    const base = koffi.address(this.data);
    this.baseLo = Number(base & 0xFFFFFFFFn);
    this.baseHi = Number(base >> 32n);
    this.off = 0;
    this.n = 0;
  }

  addAll(m) {
    const { items, lens } = m;
    const data = this.data;
    const u32 = this.u32;
    let off = this.off;
    let j = this.n * 4;
    if (m.joined !== null) data.latin1Write(m.joined, off, m.total);
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      if (m.joined === null && len > 0) {
        const v = items[i];
        if (typeof v === 'string') data.utf8Write(v, off, len);
        else data.set(v, off);
      }
      const lo = this.baseLo + off;
      u32[j] = lo % TWO32;
      u32[j + 1] = this.baseHi + Math.floor(lo / TWO32);
      u32[j + 2] = len % TWO32;
      u32[j + 3] = Math.floor(len / TWO32);
      off += len;
      j += 4;
    }
    this.off = off;
    this.n += lens.length;
  }

  // The table from slice `from` on, as a Buffer koffi passes by address.
  at(from) {
    return from === 0 ? this.slices : this.slices.subarray(from * 16);
  }
}

// A new Buffer with `len` bytes of `src` from `off`. Short values are copied
// in JS: cheaper than Buffer#copy's native call.
function copyRange(src, off, len) {
  const b = Buffer.allocUnsafe(len);
  if (len <= 64) {
    for (let i = 0; i < len; i++) b[i] = src[off + i];
  } else {
    src.copy(b, 0, off, off + len);
  }
  return b;
}

function toArray(list, what) {
  if (Array.isArray(list)) return list;
  if (list != null && typeof list[Symbol.iterator] === 'function' && typeof list !== 'string') return Array.from(list);
  throw new TypeError(`${what} must be an array or an iterable (got ${describe(list)})`);
}

// ---------------------------------------------------------------------------
// Lifetimes and reentrancy

// Backstops for handles the program forgot to close. The held value never
// references the JS object: { ptr, ref } with the C pointer and the handle's
// entry in `atExit` (or null).
const mapRegistry = new FinalizationRegistry((held) => {
  C.dm_free(held.ptr);
  if (held.ref !== null) atExit.delete(held.ref);
});
const iterRegistry = new FinalizationRegistry((held) => {
  C.dm_iter_free(held.ptr);
  if (held.ref !== null) atExit.delete(held.ref);
});

// Finalizers never run when a thread exits, so in a worker thread the handles
// still open at exit (maps and started iterators) are released by an 'exit'
// hook: a worker that forgets close() does not keep a shared map alive for
// the rest of the process. (worker.terminate() skips 'exit' hooks.) The main
// thread needs none: the process is ending.
const atExit = isMainThread ? null : new Set();
if (atExit !== null) {
  process.once('exit', () => {
    for (const ref of atExit) {
      const handle = ref.deref();
      if (handle !== undefined) handle._release();
    }
    atExit.clear();
  });
}

function trackAtExit(handle) {
  if (atExit === null) return null;
  const ref = new WeakRef(handle);
  atExit.add(ref);
  return ref;
}

// Maps (by C pointer) whose update()/retain() callback is running on this
// thread. Most C functions report reentrancy with DM_ERR_REENTRANT; this set
// disambiguates the few that answer a plain value (contains_key -> false,
// iter_new -> NULL).
const busy = new Map();
function enterBusy(ptr) {
  busy.set(ptr, (busy.get(ptr) || 0) + 1);
}
function leaveBusy(ptr) {
  const n = busy.get(ptr) - 1;
  if (n === 0) busy.delete(ptr);
  else busy.set(ptr, n);
}

const KEEP = Symbol('DashMap.KEEP');
const ADOPT = Symbol('adopt');
const TOKEN_VERSION = 1;

// ---------------------------------------------------------------------------
// Options

const HASHERS = { siphash: 0, fast: 1 };
const OPTION_NAMES = new Set(['capacity', 'shards', 'hasher', 'seed', 'maxEntries', 'manualClock']);
const MAX_SHARDS = 65536;

function buildOptions(options) {
  const o = { capacity: 0, shards: 0, hasher: 0, seed: 0n, max_entries: 0, manual_clock: false };
  if (options === undefined || options === null) return o;
  if (typeof options !== 'object') throw new TypeError(`options must be an object (got ${describe(options)})`);
  for (const k of Object.keys(options)) {
    if (!OPTION_NAMES.has(k)) throw new TypeError(`unknown DashMap option '${k}' (known: ${[...OPTION_NAMES].join(', ')})`);
  }
  const { capacity, shards, hasher, seed, maxEntries, manualClock } = options;
  if (capacity !== undefined) {
    if (typeof capacity !== 'number') throw new TypeError(`options.capacity must be a number (got ${describe(capacity)})`);
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`options.capacity must be a non-negative integer (got ${capacity})`);
    o.capacity = capacity;
  }
  if (shards !== undefined) {
    if (typeof shards !== 'number') throw new TypeError(`options.shards must be a number (got ${describe(shards)})`);
    const pow2 = Number.isInteger(shards) && shards >= 2 && shards <= MAX_SHARDS && (shards & (shards - 1)) === 0;
    if (shards !== 0 && !pow2) {
      throw new RangeError(`options.shards must be 0 (default) or a power of two in [2, ${MAX_SHARDS}] (got ${shards})`);
    }
    o.shards = shards;
  }
  if (hasher !== undefined) {
    if (typeof hasher !== 'string') throw new TypeError(`options.hasher must be a string (got ${describe(hasher)})`);
    if (!Object.hasOwn(HASHERS, hasher)) throw new RangeError(`options.hasher must be 'siphash' or 'fast' (got '${hasher}')`);
    o.hasher = HASHERS[hasher];
  }
  if (seed !== undefined) {
    if (typeof seed === 'number') {
      if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`options.seed must be a non-negative safe integer or a bigint (got ${seed})`);
      o.seed = BigInt(seed);
    } else if (typeof seed === 'bigint') {
      if (seed < 0n || seed >= 2n ** 64n) throw new RangeError(`options.seed must fit in a uint64 (got ${seed})`);
      o.seed = seed;
    } else {
      throw new TypeError(`options.seed must be a number or a bigint (got ${describe(seed)})`);
    }
  }
  if (maxEntries !== undefined) {
    if (typeof maxEntries !== 'number') throw new TypeError(`options.maxEntries must be a number (got ${describe(maxEntries)})`);
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) throw new RangeError(`options.maxEntries must be a non-negative integer, 0 = unbounded (got ${maxEntries})`);
    o.max_entries = maxEntries;
  }
  if (manualClock !== undefined) {
    if (typeof manualClock !== 'boolean') throw new TypeError(`options.manualClock must be a boolean (got ${describe(manualClock)})`);
    o.manual_clock = manualClock;
  }
  return o;
}

// ---------------------------------------------------------------------------
// Cursor-based iteration

// Opens a dm_iter on `ptr`, or throws.
function openCursor(ptr, operation) {
  const it = C.dm_iter_new(ptr);
  if (it === null) {
    if (busy.has(ptr)) throw reentrantError(operation);
    fail(Status.DM_ERR_NO_MEMORY, operation, 'could not start a cursor');
  }
  return it;
}

// Iteration fetches entries in batches: one dm_iter_next_many call copies up
// to ITER_BATCH entries, key then value back to back, into the module-level
// `iterBuf`, with their lengths in `iterLensBuf`. Before any other JS runs,
// the batch's bytes are copied into a Buffer of their own and the lengths
// into offsets; the iterators and forEach hand out Buffers over distinct
// parts of that copy (or strings decoded from it), never views of `iterBuf`,
// which the next batch of any iterator overwrites. One FFI call and one copy
// per batch instead of per entry.
const ITER_BATCH = 256;
// An entry larger than this gets a one-off buffer instead of growing iterBuf.
const ITER_BUF_KEEP = 1 << 20;
let iterBuf = Buffer.allocUnsafeSlow(32 * 1024);
const iterLensBuf = Buffer.allocUnsafeSlow(ITER_BATCH * 16);
const ITER_LENS = new Uint32Array(iterLensBuf.buffer, iterLensBuf.byteOffset, ITER_BATCH * 4);

// Buffers over part of an ArrayBuffer without copying. Buffer[Symbol.species]
// is the class every Buffer is an instance of (Node's FastBuffer): calling it
// directly costs a third of `buf.subarray()`, which goes through the species
// lookup and argument checks each time. Checked once, with Buffer.from (the
// same result, slower) as the fallback.
const BufferClass = (() => {
  try {
    const S = Buffer[Symbol.species];
    const t = typeof S === 'function' ? new S(new ArrayBuffer(3), 1, 1) : null;
    if (t !== null && Object.getPrototypeOf(t) === Buffer.prototype && t.byteOffset === 1 && t.length === 1) return S;
  } catch (_) { /* use the fallback */ }
  return null;
})();
const bufferView = BufferClass !== null
  ? (ab, off, len) => new BufferClass(ab, off, len)
  : (ab, off, len) => Buffer.from(ab, off, len);

// One batch of entries, owned by the iterator that fetched it. Entry i's key
// is data[offs[2i], offs[2i+1]) and its value data[offs[2i+1], offs[2i+2]).
class IterBatch {
  constructor(data, offs, count) {
    this.data = data;
    this.ab = data.buffer;
    this.base = data.byteOffset;
    this.offs = offs;
    this.count = count;
  }

  // Part [a, b) of data as a new Buffer (sharing the batch's memory).
  view(a, b) {
    return bufferView(this.ab, this.base + a, b - a);
  }
}

// Advances `it` by up to ITER_BATCH entries; returns an IterBatch, or null at
// the end.
function fetchBatch(it, operation) {
  let buf = iterBuf;
  let st = C.dm_iter_next_many(it, buf, buf.length, iterLensBuf, ITER_BATCH, S0, S1);
  while (st === DM_BUFFER_TOO_SMALL) {
    // Not even the next entry fits (rd(1) bytes); the cursor did not move.
    const need = rd(1);
    if (need <= ITER_BUF_KEEP) buf = iterBuf = ensure(iterBuf, need);
    else buf = Buffer.allocUnsafeSlow(need);
    st = C.dm_iter_next_many(it, buf, buf.length, iterLensBuf, ITER_BATCH, S0, S1);
  }
  if (st === DM_NOT_FOUND) return null;
  if (st !== DM_OK) fail(st, operation);
  const count = rd(0);
  const used = rd(1);
  const offs = new Array(2 * count + 1);
  let off = 0;
  for (let j = 0; j < 2 * count; j++) {
    offs[j] = off;
    off += ITER_LENS[2 * j] + ITER_LENS[2 * j + 1] * TWO32;
  }
  offs[2 * count] = off;
  let data;
  if (buf !== iterBuf) {
    data = buf.subarray(0, used); // a one-off buffer: already the batch's own
  } else {
    data = Buffer.allocUnsafe(used);
    buf.copy(data, 0, 0, used);
  }
  return new IterBatch(data, offs, count);
}

const KIND_KEYS = 0;
const KIND_VALUES = 1;
const KIND_ENTRIES = 2;
const KIND_NAMES = ['keys', 'values', 'entries'];

/**
 * An iterator over a map's lock-free cursor (dm_iter). The C cursor is
 * created on the first next() and freed when the iteration ends, when
 * return() is called (for...of does that on break/throw), or by a
 * FinalizationRegistry if the iterator is dropped half-way.
 */
class DashMapIterator {
  #map;
  #kind;
  #encoding;
  #it = null;
  #done = false;
  #exitRef = null;
  // The current batch (see fetchBatch), its size and the next entry in it.
  #batch = null;
  #count = 0;
  #pos = 0;

  constructor(map, kind, encoding) {
    this.#map = map;
    this.#kind = kind;
    this.#encoding = encoding;
  }

  next() {
    if (this.#done) return { value: undefined, done: true };
    const op = KIND_NAMES[this.#kind];
    try {
      this.#map._ptr(op);
    } catch (e) {
      this.#finish();
      throw e;
    }
    if (this.#pos === this.#count) this.#refill(op);
    if (this.#done) return { value: undefined, done: true };
    const i = this.#pos++;
    const batch = this.#batch;
    const offs = batch.offs;
    const enc = this.#encoding;
    switch (this.#kind) {
      case KIND_KEYS: {
        const a = offs[2 * i];
        const b = offs[2 * i + 1];
        return { value: enc ? batch.data.toString(enc, a, b) : batch.view(a, b), done: false };
      }
      case KIND_VALUES: {
        const a = offs[2 * i + 1];
        const b = offs[2 * i + 2];
        return { value: enc ? batch.data.toString(enc, a, b) : batch.view(a, b), done: false };
      }
      default: {
        const a = offs[2 * i];
        const b = offs[2 * i + 1];
        const c = offs[2 * i + 2];
        const e = enc ? [batch.data.toString(enc, a, b), batch.data.toString(enc, b, c)] : [batch.view(a, b), batch.view(b, c)];
        return { value: e, done: false };
      }
    }
  }

  // Fetches the next batch (opening the cursor on the first call); finishes
  // the iteration at the end.
  #refill(op) {
    if (this.#it === null) {
      this.#it = openCursor(this.#map._ptr(op), `DashMap.${op}`);
      this.#exitRef = trackAtExit(this);
      iterRegistry.register(this, { ptr: this.#it, ref: this.#exitRef }, this);
    }
    let batch;
    try {
      batch = fetchBatch(this.#it, `DashMap.${op}`);
    } catch (e) {
      if (e.code !== 'DM_ERR_NO_MEMORY') this.#finish();
      throw e;
    }
    if (batch === null) {
      this.#finish();
      return;
    }
    this.#batch = batch;
    this.#count = batch.count;
    this.#pos = 0;
  }

  return(value) {
    this.#finish();
    return { value, done: true };
  }

  #finish() {
    this.#done = true;
    this.#batch = null;
    this.#count = this.#pos = 0;
    if (this.#it !== null) {
      iterRegistry.unregister(this);
      if (this.#exitRef !== null) atExit.delete(this.#exitRef);
      C.dm_iter_free(this.#it);
      this.#it = null;
    }
  }

  // Frees the cursor (the worker-exit hook).
  _release() {
    this.#finish();
  }

  [Symbol.iterator]() {
    return this;
  }

  get [Symbol.toStringTag]() {
    return 'DashMap Iterator';
  }
}

// ---------------------------------------------------------------------------
// The map

class DashMap {
  #ptr = null;
  #exitRef = null;

  /**
   * @param {object} [options] capacity, shards (0 or a power of two in
   *   [2, 65536]), hasher ('siphash' | 'fast'), seed (number or bigint; 0 = random),
   *   maxEntries (0 = unbounded), manualClock (boolean).
   */
  constructor(options, adopted) {
    if (options === ADOPT) {
      this.#ptr = adopted;
    } else {
      const opts = buildOptions(options);
      const out = [null];
      const st = C.dm_new_with_options(opts, out);
      if (st !== DM_OK) fail(st, 'new DashMap');
      this.#ptr = out[0];
    }
    this.#exitRef = trackAtExit(this);
    mapRegistry.register(this, { ptr: this.#ptr, ref: this.#exitRef }, this);
  }

  /** Creates a map and fills it from an iterable of [key, value] pairs (one dm_extend call). */
  static from(entries, options) {
    const m = new DashMap(options);
    try {
      m.setMany(entries);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  // The C pointer, or an Error when closed. Internal (used by iterators).
  _ptr(operation) {
    const p = this.#ptr;
    if (p === null) throw closedError(operation);
    return p;
  }

  // ---- Map interface ------------------------------------------------------

  get size() {
    const p = this._ptr('size');
    const n = C.dm_len(p);
    if (typeof n !== 'number' || n > Number.MAX_SAFE_INTEGER) throw reentrantError('DashMap.size');
    return n;
  }

  /**
   * Inserts or replaces `key` -> `value` as a whole new entry. With `ttlMs`
   * (> 0) the entry expires that many milliseconds from now; without it (or
   * 0) it never expires, even if the entry it replaces had a TTL.
   */
  set(key, value, ttlMs) {
    const p = this._ptr('set');
    const kl = byteLen(key, 'key');
    const vl = byteLen(value, 'value');
    let st;
    if (ttlMs === undefined) {
      st = C.dm_insert(p, key, kl, value, vl);
    } else {
      checkTtl(ttlMs);
      st = C.dm_insert_ttl(p, key, kl, value, vl, ttlMs);
    }
    if (st < 0) fail(st, 'DashMap.set');
    return this;
  }

  get(key) {
    const p = this._ptr('get');
    const kl = byteLen(key, 'key');
    const st = C.dm_get_copy(p, key, kl, scratch, scratch.length, S0);
    if (st === DM_OK) return fromScratch(rd(0));
    if (st === DM_NOT_FOUND) return undefined;
    if (st !== DM_BUFFER_TOO_SMALL) fail(st, 'DashMap.get');
    const st2 = negotiate((buf, cap) => C.dm_get_copy(p, key, kl, buf, cap, S0));
    if (st2 === DM_OK) return takeOut();
    if (st2 === DM_NOT_FOUND) return undefined;
    return fail(st2, 'DashMap.get');
  }

  /** The value decoded as text (UTF-8 unless `encoding` says otherwise), or undefined. */
  getString(key, encoding = 'utf8') {
    checkEncoding(encoding);
    const v = this.get(key);
    return v === undefined ? undefined : v.toString(encoding);
  }

  has(key) {
    const p = this._ptr('has');
    const kl = byteLen(key, 'key');
    if (C.dm_contains_key(p, key, kl)) return true;
    if (busy.size !== 0 && busy.has(p)) throw reentrantError('DashMap.has');
    return false;
  }

  delete(key) {
    const p = this._ptr('delete');
    const kl = byteLen(key, 'key');
    const st = C.dm_remove(p, key, kl, null, 0, null);
    if (st === DM_OK) return true;
    if (st === DM_NOT_FOUND) return false;
    return fail(st, 'DashMap.delete');
  }

  clear() {
    const st = C.dm_clear(this._ptr('clear'));
    if (st !== DM_OK) fail(st, 'DashMap.clear');
  }

  forEach(callback, thisArg) {
    const p = this._ptr('forEach');
    checkFunction(callback, 'callback');
    const it = openCursor(p, 'DashMap.forEach');
    try {
      for (let batch = fetchBatch(it, 'DashMap.forEach'); batch !== null; batch = fetchBatch(it, 'DashMap.forEach')) {
        const { offs, count } = batch;
        for (let i = 0; i < count; i++) {
          const k = batch.view(offs[2 * i], offs[2 * i + 1]);
          const v = batch.view(offs[2 * i + 1], offs[2 * i + 2]);
          callback.call(thisArg, v, k, this);
          if (this.#ptr === null) throw closedError('forEach');
        }
      }
    } finally {
      C.dm_iter_free(it);
    }
  }

  keys(encoding) {
    this._ptr('keys');
    checkEncoding(encoding);
    return new DashMapIterator(this, KIND_KEYS, encoding);
  }

  values(encoding) {
    this._ptr('values');
    checkEncoding(encoding);
    return new DashMapIterator(this, KIND_VALUES, encoding);
  }

  entries(encoding) {
    this._ptr('entries');
    checkEncoding(encoding);
    return new DashMapIterator(this, KIND_ENTRIES, encoding);
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  get [Symbol.toStringTag]() {
    return 'DashMap';
  }

  // ---- Beyond Map -----------------------------------------------------------

  /** Removes `key` and returns its value (Buffer), or undefined when absent. */
  take(key) {
    const p = this._ptr('take');
    const kl = byteLen(key, 'key');
    const st = negotiate((buf, cap) => C.dm_remove(p, key, kl, buf, cap, S0));
    if (st === DM_OK) return takeOut();
    if (st === DM_NOT_FOUND) return undefined;
    return fail(st, 'DashMap.take');
  }

  /**
   * Adds `delta` to the 8-byte little-endian int64 counter at `key` (absent = 0;
   * wraps on overflow) and returns the new value: a number when it is a safe
   * integer, else a BigInt. With `ttlMs`, a counter this call creates expires
   * that many milliseconds from now and later adds keep the deadline (one
   * call per request is a fixed-window rate limiter).
   */
  add(key, delta, ttlMs) {
    const p = this._ptr('add');
    const kl = byteLen(key, 'key');
    checkDelta(delta);
    let st;
    if (ttlMs === undefined) {
      st = C.dm_add_i64(p, key, kl, delta, S0);
    } else {
      checkTtl(ttlMs);
      st = C.dm_add_i64_ttl(p, key, kl, delta, ttlMs, S0);
    }
    if (st !== DM_OK) {
      fail(st, 'DashMap.add', st === DM_ERR_INVALID ? 'the existing value is not an 8-byte counter' : undefined);
    }
    return readI64();
  }

  /** Reads a counter written by add(): number (or BigInt beyond 2^53), or undefined. */
  getCounter(key) {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (v.length !== 8) fail(DM_ERR_INVALID, 'DashMap.getCounter', 'the value is not an 8-byte counter');
    const b = v.readBigInt64LE(0);
    const n = Number(b);
    return Number.isSafeInteger(n) ? n : b;
  }

  /**
   * Atomically replaces the value of `key` with `fn(old)`, where `old` is the
   * current value (Buffer) or undefined. `fn` returns the new value, undefined
   * to delete the entry, or DashMap.KEEP to leave it as it is. Runs under the
   * shard's write lock: `fn` must be quick and must not use this map. If `fn`
   * throws, nothing changes and the exception propagates.
   * Returns the value now stored (Buffer) or undefined.
   */
  update(key, fn) {
    const p = this._ptr('update');
    const kl = byteLen(key, 'key');
    checkFunction(fn, 'fn');
    // C reads the key again after the callback (to insert it), so a caller's
    // Uint8Array must not change meanwhile: pass a private copy.
    const k = typeof key === 'string' ? key : Buffer.from(key);
    let threw = false;
    let error;
    let result;
    const trampoline = (entry) => {
      try {
        const vp = C.dm_entry_value(entry, S0);
        const old = vp === null ? undefined : copyOut(vp, rd(0));
        const nv = fn(old);
        if (nv === KEEP) {
          result = old;
        } else if (nv === undefined) {
          if (vp !== null) {
            const st = C.dm_entry_remove(entry);
            if (st < 0) fail(st, 'DashMap.update');
          }
          result = undefined;
        } else {
          const vl = byteLen(nv, 'the value returned by fn');
          const st = C.dm_entry_set(entry, nv, vl);
          if (st !== DM_OK) fail(st, 'DashMap.update');
          result = toBuffer(nv);
        }
      } catch (e) {
        threw = true;
        error = e;
      }
    };
    enterBusy(p);
    let st;
    try {
      st = C.dm_entry_update(p, k, kl, trampoline, null);
    } finally {
      leaveBusy(p);
    }
    if (threw) throw error;
    if (st !== DM_OK) fail(st, 'DashMap.update');
    return result;
  }

  /** Inserts only if `key` is absent (or expired); true when inserted. `ttlMs` as for set(). */
  tryInsert(key, value, ttlMs) {
    const p = this._ptr('tryInsert');
    const kl = byteLen(key, 'key');
    const vl = byteLen(value, 'value');
    let st;
    if (ttlMs === undefined) {
      st = C.dm_try_insert(p, key, kl, value, vl);
    } else {
      checkTtl(ttlMs);
      st = C.dm_try_insert_ttl(p, key, kl, value, vl, ttlMs);
    }
    if (st === DM_OK) return true;
    if (st === DM_EXISTS) return false;
    return fail(st, 'DashMap.tryInsert');
  }

  /** Returns the existing value, or inserts `value` and returns (a copy of) it. */
  getOrInsert(key, value) {
    const p = this._ptr('getOrInsert');
    const kl = byteLen(key, 'key');
    const vl = byteLen(value, 'value');
    const st = negotiate((buf, cap) => C.dm_get_or_insert(p, key, kl, value, vl, buf, cap, S0));
    if (st === DM_EXISTS) return takeOut();
    if (st === DM_OK) return toBuffer(value);
    return fail(st, 'DashMap.getOrInsert');
  }

  /**
   * Sets `key` to `value` only if its current value equals `expected` byte
   * for byte; `expected === undefined` means "only if absent". True when swapped.
   */
  compareAndSwap(key, expected, value) {
    const p = this._ptr('compareAndSwap');
    const kl = byteLen(key, 'key');
    const vl = byteLen(value, 'value');
    if (expected === undefined) {
      const st = C.dm_try_insert(p, key, kl, value, vl);
      if (st === DM_OK) return true;
      if (st === DM_EXISTS) return false;
      return fail(st, 'DashMap.compareAndSwap');
    }
    const el = byteLen(expected, 'expected');
    const st = C.dm_compare_and_swap(p, key, kl, expected, el, value, vl);
    if (st === DM_OK) return true;
    if (st === DM_MISMATCH || st === DM_NOT_FOUND) return false;
    return fail(st, 'DashMap.compareAndSwap');
  }

  /** Deletes `key` only if its value equals `expected`; true when deleted. */
  compareAndDelete(key, expected) {
    const p = this._ptr('compareAndDelete');
    const kl = byteLen(key, 'key');
    const el = byteLen(expected, 'expected');
    const st = C.dm_compare_and_remove(p, key, kl, expected, el);
    if (st === DM_OK) return true;
    if (st === DM_MISMATCH || st === DM_NOT_FOUND) return false;
    return fail(st, 'DashMap.compareAndDelete');
  }

  /** Stores `value` and returns the previous value (Buffer) or undefined. */
  swap(key, value) {
    const p = this._ptr('swap');
    const kl = byteLen(key, 'key');
    const vl = byteLen(value, 'value');
    const st = negotiate((buf, cap) => C.dm_swap(p, key, kl, value, vl, buf, cap, S0));
    if (st === DM_REPLACED) return takeOut();
    if (st === DM_OK) return undefined;
    return fail(st, 'DashMap.swap');
  }

  /**
   * Keeps only the entries for which `fn(value, key)` is truthy, shard by
   * shard under each shard's write lock (`fn` must not use this map).
   * If `fn` throws, every entry not yet decided is kept and the exception
   * propagates. Returns the number of entries removed.
   */
  retain(fn) {
    const p = this._ptr('retain');
    checkFunction(fn, 'fn');
    let threw = false;
    let error;
    let removed = 0;
    const trampoline = (kp, kl, vp, vl) => {
      if (threw) return true;
      try {
        const keep = fn(copyOut(vp, vl), copyOut(kp, kl));
        if (keep) return true;
        removed++;
        return false;
      } catch (e) {
        threw = true;
        error = e;
        return true;
      }
    };
    enterBusy(p);
    let st;
    try {
      st = C.dm_retain_cb(p, trampoline, null);
    } finally {
      leaveBusy(p);
    }
    if (threw) throw error;
    if (st !== DM_OK) fail(st, 'DashMap.retain');
    return removed;
  }

  // ---- Time-to-live ---------------------------------------------------------

  /**
   * Gives the existing entry at `key` a TTL of `ttlMs` from now, or with 0
   * removes its TTL. False when the key is absent or already expired.
   */
  expire(key, ttlMs) {
    const p = this._ptr('expire');
    const kl = byteLen(key, 'key');
    checkTtl(ttlMs);
    const st = C.dm_expire(p, key, kl, ttlMs);
    if (st === DM_OK) return true;
    if (st === DM_NOT_FOUND) return false;
    return fail(st, 'DashMap.expire');
  }

  /** Pushes the existing entry's expiry to `ttlMs` (> 0) from now (a sliding timeout). */
  touch(key, ttlMs) {
    const p = this._ptr('touch');
    const kl = byteLen(key, 'key');
    checkTtl(ttlMs);
    if (ttlMs === 0) throw new RangeError('ttlMs must be > 0 for touch(); use expire(key, 0) to remove a TTL');
    const st = C.dm_touch(p, key, kl, ttlMs);
    if (st === DM_OK) return true;
    if (st === DM_NOT_FOUND) return false;
    return fail(st, 'DashMap.touch');
  }

  /** Milliseconds `key` has left (>= 1), Infinity when it never expires, undefined when absent or expired. */
  ttl(key) {
    const p = this._ptr('ttl');
    const kl = byteLen(key, 'key');
    const st = C.dm_ttl_remaining(p, key, kl, S0);
    if (st === DM_NOT_FOUND) return undefined;
    if (st !== DM_OK) fail(st, 'DashMap.ttl');
    if (OUT_U32[0] === 0xFFFFFFFF && OUT_U32[1] === 0xFFFFFFFF) return Infinity;
    return rd(0);
  }

  /**
   * Removes every expired entry and returns how many. Expiry is lazy: reads
   * already ignore expired entries, but `size` and stats() count them until
   * they are removed.
   */
  purgeExpired() {
    const st = C.dm_purge_expired(this._ptr('purgeExpired'), S0);
    if (st !== DM_OK) fail(st, 'DashMap.purgeExpired');
    return rd(0);
  }

  /** The map's clock in milliseconds: the manual clock, or a monotonic one. */
  now() {
    return Number(C.dm_clock_now(this._ptr('now')));
  }

  /** Sets the manual clock (maps created with `manualClock: true` only). */
  setClock(ms) {
    const p = this._ptr('setClock');
    checkTtl(ms, 'ms');
    const st = C.dm_clock_set(p, ms);
    if (st !== DM_OK) {
      fail(st, 'DashMap.setClock', st === DM_ERR_INVALID ? 'the map follows real time (create it with { manualClock: true })' : undefined);
    }
  }

  // ---- Batches (one FFI call each) -------------------------------------------

  /** Inserts or replaces every [key, value] pair of `entries` in one dm_extend call. */
  setMany(entries) {
    const p = this._ptr('setMany');
    const list = toArray(entries, 'entries');
    const n = list.length;
    if (n === 0) return this;
    const keys = new Array(n);
    const vals = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = list[i];
      if (e === null || typeof e !== 'object') throw new TypeError(`entries[${i}] must be a [key, value] pair (got ${describe(e)})`);
      keys[i] = e[0];
      vals[i] = e[1];
    }
    const mk = new Measured(keys, (i) => `entries[${i}][0] (key)`);
    const mv = new Measured(vals, (i) => `entries[${i}][1] (value)`);
    const pk = new Packer(mk.total + mv.total, 2 * n);
    pk.addAll(mk);
    pk.addAll(mv);
    const st = C.dm_extend(p, pk.at(0), pk.at(n), n);
    if (st !== DM_OK) fail(st, 'DashMap.setMany');
    return this;
  }

  /** Looks up every key in one dm_get_many call; returns an array of Buffer | undefined. */
  getMany(keys) {
    const p = this._ptr('getMany');
    const list = toArray(keys, 'keys');
    const n = list.length;
    if (n === 0) return [];
    const pk = packKeys(list);
    const lensBuf = n * 8 <= ARENA_KEEP ? (lensScratch = ensure(lensScratch, n * 8)) : Buffer.allocUnsafeSlow(n * 8);
    const lens = new Uint32Array(lensBuf.buffer, lensBuf.byteOffset, n * 2);
    let out = bulkOut;
    let st = C.dm_get_many(p, pk.at(0), n, out, out.length, lensBuf, S0);
    while (st === DM_BUFFER_TOO_SMALL) {
      const need = rd(0);
      if (need <= ARENA_KEEP) out = bulkOut = ensure(bulkOut, need);
      else out = Buffer.allocUnsafeSlow(need);
      st = C.dm_get_many(p, pk.at(0), n, out, out.length, lensBuf, S0);
    }
    if (st !== DM_OK) fail(st, 'DashMap.getMany');
    const result = new Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const lo = lens[2 * i];
      const hi = lens[2 * i + 1];
      if (lo === 0xFFFFFFFF && hi === 0xFFFFFFFF) {
        result[i] = undefined;
      } else {
        const len = lo + hi * TWO32;
        result[i] = copyRange(out, off, len);
        off += len;
      }
    }
    return result;
  }

  /** Deletes every key in one dm_remove_many call; returns how many were present. */
  deleteMany(keys) {
    const p = this._ptr('deleteMany');
    const list = toArray(keys, 'keys');
    const n = list.length;
    if (n === 0) return 0;
    const pk = packKeys(list);
    const st = C.dm_remove_many(p, pk.at(0), n, S0);
    if (st !== DM_OK) fail(st, 'DashMap.deleteMany');
    return rd(0);
  }

  // ---- Introspection ------------------------------------------------------

  /** A snapshot of size and layout (each shard counted atomically). */
  stats() {
    const p = this._ptr('stats');
    const s = {};
    const st = C.dm_stats_get(p, s);
    if (st !== DM_OK) fail(st, 'DashMap.stats');
    return {
      len: Number(s.len),
      capacity: Number(s.capacity),
      shards: Number(s.shards),
      minShardLen: Number(s.min_shard_len),
      maxShardLen: Number(s.max_shard_len),
      keyBytes: Number(s.key_bytes),
      valueBytes: Number(s.value_bytes),
    };
  }

  /** Entries the map can hold without growing. */
  get capacity() {
    const n = C.dm_capacity(this._ptr('capacity'));
    if (typeof n !== 'number' || n > Number.MAX_SAFE_INTEGER) throw reentrantError('DashMap.capacity');
    return n;
  }

  /** Number of shards (fixed at creation). */
  get shardCount() {
    return Number(C.dm_shard_count(this._ptr('shardCount')));
  }

  /** Releases unused capacity. */
  shrinkToFit() {
    const st = C.dm_shrink_to_fit(this._ptr('shrinkToFit'));
    if (st !== DM_OK) fail(st, 'DashMap.shrinkToFit');
  }

  // ---- Sharing and lifetime ---------------------------------------------------

  /**
   * Returns a token to post to a worker (postMessage / workerData), where
   * DashMap.fromShared(token) opens the same map. The token carries one map
   * reference (taken now with dm_ref) and can be adopted exactly once; a token
   * that is never adopted keeps the map alive until DashMap.releaseShared(token).
   * Tokens are only valid inside this process.
   */
  share() {
    const p = this._ptr('share');
    const ref = C.dm_ref(p);
    return {
      __dashmap: ref,
      version: TOKEN_VERSION,
      pid: process.pid,
      claim: new SharedArrayBuffer(4),
    };
  }

  /** Opens the map behind a token made by share(), adopting its reference. */
  static fromShared(token) {
    const ptr = claimToken(token, 'DashMap.fromShared');
    return new DashMap(ADOPT, ptr);
  }

  /**
   * Drops the reference held by a token that will never be adopted. Returns
   * true if it did, false if the token had already been adopted or released.
   */
  static releaseShared(token) {
    let ptr;
    try {
      ptr = claimToken(token, 'DashMap.releaseShared');
    } catch (e) {
      if (e.code === 'ERR_DASHMAP_TOKEN_USED') return false;
      throw e;
    }
    C.dm_free(ptr);
    return true;
  }

  /** Drops this handle's reference (the map lives on while others hold one). Idempotent. */
  close() {
    const p = this.#ptr;
    if (p === null) return;
    this.#ptr = null;
    mapRegistry.unregister(this);
    if (this.#exitRef !== null) atExit.delete(this.#exitRef);
    C.dm_free(p);
  }

  // Drops the reference (the worker-exit hook).
  _release() {
    this.close();
  }

  get closed() {
    return this.#ptr === null;
  }

  [util.inspect.custom](depth, opts, inspect) {
    if (this.#ptr === null) return 'DashMap <closed>';
    let size;
    try {
      size = this.size;
    } catch (_) {
      size = '?';
    }
    return `DashMap { size: ${size}, shards: ${this.shardCount} }`;
  }
}

function packKeys(list) {
  const m = new Measured(list, (i) => `keys[${i}]`);
  const pk = new Packer(m.total, list.length);
  pk.addAll(m);
  return pk;
}

function claimToken(token, operation) {
  if (token === null || typeof token !== 'object' || typeof token.__dashmap !== 'bigint' ||
      !(token.claim instanceof SharedArrayBuffer) || token.claim.byteLength < 4) {
    throw new TypeError(`${operation}: expected a token returned by DashMap#share()`);
  }
  if (token.version !== TOKEN_VERSION) {
    throw new TypeError(`${operation}: unsupported token version ${token.version} (expected ${TOKEN_VERSION})`);
  }
  if (token.pid !== process.pid) {
    const e = new Error(`${operation}: the token comes from another process (pid ${token.pid}); ` +
      'a DashMap can only be shared between threads of one process');
    e.code = 'ERR_DASHMAP_TOKEN_PROCESS';
    throw e;
  }
  if (Atomics.compareExchange(new Int32Array(token.claim), 0, 0, 1) !== 0) {
    const e = new Error(`${operation}: this token was already adopted or released; ` +
      'call share() once per receiving thread');
    e.code = 'ERR_DASHMAP_TOKEN_USED';
    throw e;
  }
  return token.__dashmap;
}

if (typeof Symbol.dispose === 'symbol') {
  DashMap.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

Object.defineProperty(DashMap, 'KEEP', { value: KEEP, enumerable: true });

/** The loaded libdashmap's version string. */
function libraryVersion() {
  return C.dm_version();
}

module.exports = {
  DashMap,
  DashMapError,
  Status,
  KEEP,
  libraryVersion,
  libraryPath,
  default: DashMap,
};
// Lets TypeScript/Babel `import DashMap from '@libdashmap/dashmap'` pick
// `default` when compiling to CommonJS, as the ESM entry does natively.
Object.defineProperty(module.exports, '__esModule', { value: true });
