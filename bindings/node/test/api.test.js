'use strict';
// Argument checking, options, errors, lifetimes, edge values, iteration
// protocol, sharing tokens within one thread, and the ESM entry.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const dashmap = require('..');
const { DashMap, DashMapError, Status, KEEP, libraryVersion, libraryPath } = dashmap;

const isCode = (code) => (e) => {
  assert.equal(e.code, code, e.message);
  return true;
};

test('the library loads and reports its version', () => {
  assert.match(libraryVersion(), /^\d+\.\d+\.\d+$/);
  assert.equal(libraryVersion(), require('../package.json').version);
  assert.equal(typeof libraryPath, 'string');
  if (process.env.DASHMAP_LIB) assert.equal(libraryPath, process.env.DASHMAP_LIB);
});

test('options: valid ones are accepted', () => {
  for (const o of [undefined, null, {}, { capacity: 0 }, { capacity: 1000 }, { shards: 0 }, { shards: 2 },
    { shards: 65536 }, { hasher: 'siphash' }, { hasher: 'fast' }, { seed: 0 }, { seed: 42 },
    { seed: 2n ** 64n - 1n }, { capacity: 10, shards: 8, hasher: 'fast', seed: 9n }]) {
    const m = new DashMap(o);
    m.set('k', 'v');
    assert.equal(m.getString('k'), 'v');
    if (o && o.shards) assert.equal(m.shardCount, o.shards);
    if (o && o.capacity) assert.ok(m.capacity >= o.capacity);
    m.close();
  }
});

test('options: invalid ones throw RangeError or TypeError', () => {
  const range = [{ shards: 3 }, { shards: 1 }, { shards: 131072 }, { shards: -2 }, { shards: 2.5 },
    { capacity: -1 }, { capacity: 1.5 }, { capacity: 2 ** 60 }, { hasher: 'md5' }, { seed: -1 },
    { seed: 1.5 }, { seed: -1n }, { seed: 2n ** 64n }];
  for (const o of range) assert.throws(() => new DashMap(o), RangeError, JSON.stringify(o, (k, v) => String(v)));
  const type = [42, 'fast', true, { shards: '4' }, { capacity: 10n }, { hasher: 1 }, { seed: '1' },
    { shard: 4 }, { hash: 'fast' }];
  for (const o of type) assert.throws(() => new DashMap(o), TypeError, JSON.stringify(o, (k, v) => String(v)));
  // In range but impossible to allocate: the library's status, not a crash.
  assert.throws(() => new DashMap({ capacity: 2 ** 50 }), (e) => e instanceof DashMapError && e.code === 'DM_ERR_NO_MEMORY');
});

test('keys and values: bad types throw TypeError and change nothing', () => {
  const m = new DashMap();
  m.set('k', 'v');
  const bad = [undefined, null, 42, 42n, true, {}, [], Symbol('s'), () => {}, new ArrayBuffer(4),
    new Uint16Array(2), new Uint8ClampedArray(2), new DataView(new ArrayBuffer(2))];
  for (const b of bad) {
    const what = typeof b === 'symbol' ? 'symbol' : String(b);
    for (const call of [
      () => m.set(b, 'v'), () => m.set('k', b), () => m.get(b), () => m.getString(b), () => m.has(b),
      () => m.delete(b), () => m.take(b), () => m.add(b, 1), () => m.getCounter(b),
      () => m.update(b, () => 'x'), () => m.tryInsert(b, 'v'), () => m.tryInsert('k', b),
      () => m.getOrInsert(b, 'v'), () => m.getOrInsert('k', b), () => m.compareAndSwap(b, 'v', 'w'),
      () => m.compareAndSwap('k', 'v', b), () => m.compareAndDelete('k', b), () => m.swap('k', b),
      () => m.setMany([['a', b]]), () => m.setMany([[b, 'a']]), () => m.getMany([b]), () => m.deleteMany(['k', b]),
    ]) {
      assert.throws(call, TypeError, `${what}: ${call}`);
    }
  }
  // update's fn returning a bad value is a TypeError too, and nothing changes.
  assert.throws(() => m.update('k', () => 42), TypeError);
  assert.throws(() => m.update('new', () => ({})), TypeError);
  assert.equal(m.has('new'), false);
  // Other bad arguments.
  assert.throws(() => m.update('k', 'not a function'), TypeError);
  assert.throws(() => m.retain(null), TypeError);
  assert.throws(() => m.forEach(undefined), TypeError);
  assert.throws(() => m.add('c', '1'), TypeError);
  assert.throws(() => m.add('c'), TypeError);
  assert.throws(() => m.add('c', 1.5), RangeError);
  assert.throws(() => m.add('c', NaN), RangeError);
  assert.throws(() => m.add('c', Infinity), RangeError);
  assert.throws(() => m.add('c', 2 ** 63), RangeError);
  assert.throws(() => m.add('c', 2n ** 63n), RangeError);
  assert.throws(() => m.add('c', -(2n ** 63n) - 1n), RangeError);
  assert.throws(() => m.setMany(42), TypeError);
  assert.throws(() => m.setMany('ab'), TypeError);
  assert.throws(() => m.setMany([null]), TypeError);
  assert.throws(() => m.getMany(undefined), TypeError);
  assert.throws(() => m.keys('klingon'), TypeError);
  assert.throws(() => m.getString('k', 'klingon'), TypeError);
  assert.equal(m.has('c'), false);
  // A failed batch inserted nothing (all arguments are checked first).
  assert.throws(() => m.setMany([['a', 'b'], ['c', 1]]), TypeError);
  assert.equal(m.has('a'), false);
  assert.equal(m.size, 1);
  assert.equal(m.getString('k'), 'v');
  m.close();
});

test('strings are UTF-8; Buffer, Uint8Array and string keys are the same key', () => {
  const m = new DashMap();
  m.set('é😀', 'v1');
  assert.equal(m.getString(Buffer.from('é😀')), 'v1');
  assert.equal(m.getString(new Uint8Array(Buffer.from('é😀'))), 'v1');
  const backing = new Uint8Array(20);
  backing.set(Buffer.from('é😀'), 5);
  assert.equal(m.getString(backing.subarray(5, 5 + Buffer.byteLength('é😀'))), 'v1');
  // Embedded NUL and lone surrogates (encoded as U+FFFD, like Buffer.from).
  m.set('a\0b', 'nul');
  assert.equal(m.getString(Buffer.from([0x61, 0, 0x62])), 'nul');
  m.set('\uD800', 'lone');
  assert.equal(m.getString(Buffer.from('\uD800')), 'lone');
  assert.deepEqual([...m.keys()].map((k) => k.toString('hex')).sort(),
    [Buffer.from('é😀'), Buffer.from('a\0b'), Buffer.from('\uD800')].map((b) => b.toString('hex')).sort());
  m.close();
});

test('batches encode each string on its own (ASCII, non-ASCII, split surrogate pairs)', () => {
  const m = new DashMap();
  const ascii = Array.from({ length: 50 }, (_, i) => [`key-${i}`, `value-${i}`]);
  m.setMany(ascii);
  assert.deepEqual(m.getMany(ascii.map((e) => e[0])).map((b) => b.toString()), ascii.map((e) => e[1]));
  // Halves of one surrogate pair in neighbouring items: each is a lone
  // surrogate (U+FFFD), not the joined emoji.
  const tricky = [['a\uD83D', 'x\uD83D'], ['\uDE00b', '\uDE00y'], ['é', 'ü'], ['plain', 'text']];
  m.setMany(tricky);
  for (const [k, v] of tricky) {
    assert.ok(m.get(Buffer.from(k)).equals(Buffer.from(v)), JSON.stringify(k));
  }
  assert.deepEqual(m.getMany(tricky.map((e) => e[0])).map((b) => b.toString('hex')),
    tricky.map((e) => Buffer.from(e[1]).toString('hex')));
  assert.equal(m.deleteMany(tricky.map((e) => e[0])), 4);
  assert.equal(m.deleteMany(ascii.map((e) => e[0]).concat(['key-0'])), 50);
  assert.equal(m.size, 0);
  m.close();
});

test('empty keys and values', () => {
  const m = new DashMap();
  m.set('', '');
  assert.equal(m.has(''), true);
  assert.equal(m.get(Buffer.alloc(0)).length, 0);
  assert.equal(m.getString(new Uint8Array(0)), '');
  assert.deepEqual([...m.entries('utf8')], [['', '']]);
  assert.equal(m.swap('', 'x').length, 0);
  assert.equal(m.compareAndSwap('', 'x', ''), true);
  assert.equal(m.compareAndDelete('', ''), true);
  assert.equal(m.size, 0);
  m.setMany([['', ''], ['e', '']]);
  assert.deepEqual(m.getMany(['', 'e', 'none']).map((b) => b && b.length), [0, 0, undefined]);
  assert.equal(m.update('', (old) => { assert.equal(old.length, 0); return KEEP; }).length, 0);
  assert.equal(m.take('').length, 0);
  m.close();
});

test('large values (beyond every internal scratch buffer) round-trip', () => {
  const m = new DashMap();
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4093) big[i] = i & 255;
  m.set('big', big);
  assert.ok(m.get('big').equals(big));
  assert.ok(m.getOrInsert('big', 'x').equals(big));
  assert.ok(m.getMany(['x', 'big', 'big'])[1].equals(big));
  assert.ok(m.swap('big', big.subarray(1)).equals(big));
  assert.ok(m.take('big').equals(big.subarray(1)));
  m.set('mid', big.subarray(0, 100 * 1024));
  assert.ok(m.get('mid').equals(big.subarray(0, 100 * 1024)));
  assert.ok(m.update('mid', (old) => Buffer.concat([old, old])).equals(Buffer.concat([big.subarray(0, 100 * 1024), big.subarray(0, 100 * 1024)])));
  const many = [];
  for (let i = 0; i < 2000; i++) many.push([`k${i}`, Buffer.alloc(1000 + i, i & 255)]);
  m.setMany(many);
  const got = m.getMany(many.map((e) => e[0]));
  for (let i = 0; i < 2000; i++) assert.ok(got[i].equals(many[i][1]));
  assert.equal(m.deleteMany(many.map((e) => e[0])), 2000);
  m.close();
});

test('returned Buffers are copies, and the map copies what it is given', () => {
  const m = new DashMap();
  const v = Buffer.from('abc');
  m.set('k', v);
  v[0] = 0x7a;
  assert.equal(m.getString('k'), 'abc');
  const got = m.get('k');
  got[0] = 0x7a;
  assert.equal(m.getString('k'), 'abc');
  const a = m.get('k');
  const b = m.get('k');
  assert.notEqual(a.buffer === b.buffer && a.byteOffset === b.byteOffset, true);
  m.close();
});

test('add: number results while safe, BigInt beyond, int64 wrap-around', () => {
  const m = new DashMap();
  assert.equal(m.add('c', 1), 1);
  assert.equal(m.add('c', -3), -2);
  assert.equal(m.add('c', 2n), 0);
  assert.equal(m.add('c', Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  assert.equal(m.add('c', 1), 2n ** 53n);
  assert.equal(m.add('c', -1n), Number.MAX_SAFE_INTEGER);
  assert.equal(m.add('n', -Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER);
  assert.equal(m.add('n', -1), -(2n ** 53n));
  assert.equal(m.add('w', 2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(m.add('w', 1), -(2n ** 63n));
  assert.equal(m.getCounter('w'), -(2n ** 63n));
  assert.equal(m.add('w', 2 ** 62), -(2n ** 62n));
  assert.equal(m.getCounter('missing'), undefined);
  const raw = m.get('c');
  assert.equal(raw.length, 8);
  assert.equal(raw.readBigInt64LE(0), 2n ** 53n - 1n);
  // Not a counter: DM_ERR_INVALID, nothing changed.
  m.set('s', 'text');
  assert.throws(() => m.add('s', 1), (e) => e instanceof DashMapError && e.code === 'DM_ERR_INVALID' &&
    e.status === Status.DM_ERR_INVALID && /counter/.test(e.message));
  assert.throws(() => m.getCounter('s'), isCode('DM_ERR_INVALID'));
  assert.equal(m.getString('s'), 'text');
  m.close();
});

test('Map-like surface: set returns this, iterator protocol, toStringTag, from()', () => {
  const m = DashMap.from([['a', '1'], ['b', '2']], { shards: 4 });
  assert.equal(m.set('c', '3'), m);
  assert.equal(Object.prototype.toString.call(m), '[object DashMap]');
  assert.equal(m[Symbol.iterator]().toString(), '[object DashMap Iterator]');
  const it = m.keys('utf8');
  assert.equal(it[Symbol.iterator](), it);
  const seen = [];
  for (let r = it.next(); !r.done; r = it.next()) seen.push(r.value);
  assert.deepEqual(seen.sort(), ['a', 'b', 'c']);
  assert.deepEqual(it.next(), { value: undefined, done: true });
  assert.deepEqual(it.next(), { value: undefined, done: true });
  assert.deepEqual([...m.values('utf8')].sort(), ['1', '2', '3']);
  assert.deepEqual(new Map(m.entries('utf8')), new Map([['a', '1'], ['b', '2'], ['c', '3']]));
  assert.deepEqual(Object.fromEntries(m.entries('utf8')), { a: '1', b: '2', c: '3' });
  // return() ends the iteration early; a later next() is done.
  const it2 = m.entries();
  assert.equal(it2.next().done, false);
  assert.deepEqual(it2.return(7), { value: 7, done: true });
  assert.deepEqual(it2.next(), { value: undefined, done: true });
  // An iterator that never started needs no cleanup.
  m.values().return();
  // break in for...of calls return().
  let n = 0;
  for (const e of m) {
    assert.ok(Array.isArray(e) && Buffer.isBuffer(e[0]) && Buffer.isBuffer(e[1]));
    if (++n === 1) break;
  }
  assert.equal(n, 1);
  assert.throws(() => DashMap.from([['a', 1]]), TypeError);
  m.close();
});

test('the cursor is lock-free: the map may be modified while iterating', () => {
  const m = new DashMap({ shards: 8 });
  for (let i = 0; i < 1000; i++) m.set(`k${i}`, `${i}`);
  const seen = new Set();
  for (const [k] of m) {
    const key = k.toString();
    assert.equal(seen.has(key), false, `${key} seen twice`);
    seen.add(key);
    m.delete(k); // allowed: no lock is held between next() calls
    m.set(`new-${key}`, 'x');
  }
  assert.equal([...seen].filter((k) => !k.startsWith('new-')).length, 1000);
  let count = 0;
  m.forEach((v, k, map) => {
    map.set(k, 'changed'); // also allowed from forEach (it walks the cursor)
    count++;
  });
  assert.equal(count, m.size);
  assert.ok([...m.values('utf8')].every((v) => v === 'changed'));
  m.close();
});

// The value stored under key i by the batch test: mostly small values of
// varied sizes, some empty, two larger than the 32 KiB iteration buffer and
// one larger than the buffer the binding keeps (1 MiB).
function batchValue(i) {
  let size = i % 97;
  if (i === 17) size = 100 << 10;
  else if (i === 4242) size = 40 << 10;
  else if (i === 9999) size = 2 << 20;
  else if (i % 500 === 3) size = 0;
  const v = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) v[j] = (i + j) & 0xff;
  return v;
}

test('iteration over many batches: every entry once, right value, never overwritten', () => {
  const N = 10000;
  const m = new DashMap();
  const other = new DashMap();
  for (let i = 0; i < N; i++) {
    m.set(`key-${String(i).padStart(5, '0')}`, batchValue(i));
    other.set(`other-${i}`, 'x'.repeat(i % 50));
  }
  const index = (k) => {
    const match = /^key-(\d{5})$/.exec(k);
    assert.ok(match, `unexpected key ${k}`);
    return Number(match[1]);
  };
  const check = (label, pairs) => {
    assert.equal(pairs.length, N, `${label}: ${pairs.length} entries`);
    const seen = new Uint8Array(N);
    for (const [k, v] of pairs) {
      const i = index(k.toString('latin1'));
      seen[i]++;
      assert.ok(v.equals(batchValue(i)), `${label}: value of ${k} (length ${v.length})`);
    }
    assert.ok(seen.every((c) => c === 1), `${label}: an entry seen ${seen.find((c) => c !== 1)} times`);
  };
  for (let round = 0; round < 2; round++) {
    // Two iterators interleaved, plus a walk over another map in between:
    // kept Buffers must belong to their batch, not to a reusable buffer.
    const a = m.entries();
    const b = m[Symbol.iterator]();
    const fromA = [];
    const fromB = [];
    for (let ra = a.next(), rb = b.next(); !ra.done || !rb.done; ra = a.next(), rb = b.next()) {
      if (!ra.done) fromA.push(ra.value);
      if (!rb.done) fromB.push(rb.value);
      if (fromA.length % 1000 === 0) for (const e of other) assert.ok(e[1].length < 50);
    }
    const viaForEach = [];
    m.forEach((v, k) => {
      viaForEach.push([k, v]);
    });
    for (const e of other.entries()) assert.ok(e[1].length < 50);
    check('entries()', fromA);
    check('[Symbol.iterator]', fromB);
    check('forEach', viaForEach);
  }
  // Yielded Buffers are copies: writing to one changes neither the map nor
  // the other Buffers.
  const [k0, v0] = m.entries().next().value;
  const i0 = index(k0.toString());
  k0.fill(0x21);
  const again = new Map([...m.entries('latin1')]);
  assert.ok(again.has(`key-${String(i0).padStart(5, '0')}`));
  if (v0.length > 0) assert.ok(v0.equals(batchValue(i0)), 'writing to a key changed its value');
  const keys = [...m.keys()];
  const keyStrings = [...m.keys('latin1')];
  const values = [...m.values()];
  const sizes = new Map();
  for (let i = 0; i < N; i++) sizes.set(batchValue(i).length, (sizes.get(batchValue(i).length) || 0) + 1);
  for (const v of values) {
    assert.ok(Buffer.isBuffer(v));
    sizes.set(v.length, sizes.get(v.length) - 1);
  }
  assert.ok([...sizes.values()].every((c) => c === 0), 'values(): sizes differ');
  assert.equal(values.length, N);
  assert.deepEqual(keys.map((k) => k.toString('latin1')).sort(), keyStrings.sort());
  assert.equal(new Set(keyStrings).size, N);
  for (const k of keyStrings) index(k);
  // Breaking out mid-batch frees the cursor; the next walk starts afresh.
  let n = 0;
  for (const _ of m.keys()) if (++n === 300) break;
  assert.equal([...m.values()].length, N);
  m.close();
  other.close();
});

test('use after close throws a clear Error; close() is idempotent', () => {
  const m = new DashMap();
  m.set('a', 'b');
  const started = m.keys();
  started.next();
  const notStarted = m.values();
  assert.equal(m.closed, false);
  m.close();
  assert.equal(m.closed, true);
  m.close();
  const calls = [
    () => m.size, () => m.set('a', 'b'), () => m.get('a'), () => m.getString('a'), () => m.has('a'),
    () => m.delete('a'), () => m.clear(), () => m.forEach(() => {}), () => m.keys(), () => m.values(),
    () => m.entries(), () => [...m], () => m.take('a'), () => m.add('a', 1), () => m.getCounter('a'),
    () => m.update('a', () => 'x'), () => m.tryInsert('a', 'b'), () => m.getOrInsert('a', 'b'),
    () => m.compareAndSwap('a', 'b', 'c'), () => m.compareAndDelete('a', 'b'), () => m.swap('a', 'b'),
    () => m.retain(() => true), () => m.setMany([]), () => m.getMany([]), () => m.deleteMany([]),
    () => m.stats(), () => m.capacity, () => m.shardCount, () => m.shrinkToFit(), () => m.share(),
    () => started.next(), () => notStarted.next(),
  ];
  for (const call of calls) {
    assert.throws(call, (e) => e instanceof Error && e.code === 'ERR_DASHMAP_CLOSED' && /closed/.test(e.message), String(call));
  }
  // An iterator that failed because of close() is finished.
  assert.deepEqual(started.next(), { value: undefined, done: true });
  // Closing inside forEach ends it with the same error.
  const m2 = DashMap.from([['a', '1'], ['b', '2']]);
  assert.throws(() => m2.forEach(() => m2.close()), isCode('ERR_DASHMAP_CLOSED'));
  assert.equal(m2.closed, true);
});

test('Symbol.dispose closes the map', { skip: typeof Symbol.dispose !== 'symbol' }, () => {
  const m = new DashMap();
  m[Symbol.dispose]();
  assert.equal(m.closed, true);
});

test('share()/fromShared() in one thread: a token is adopted once; references are counted', () => {
  const a = new DashMap();
  a.set('k', 'v');
  const token = a.share();
  assert.equal(typeof token.__dashmap, 'bigint');
  assert.equal(structuredClone(token).__dashmap, token.__dashmap);
  const b = DashMap.fromShared(structuredClone(token)); // as a worker would receive it
  assert.throws(() => DashMap.fromShared(token), isCode('ERR_DASHMAP_TOKEN_USED'));
  assert.equal(DashMap.releaseShared(token), false);
  b.set('from-b', '1');
  assert.equal(a.getString('from-b'), '1');
  a.close(); // b's reference keeps the map alive
  assert.equal(b.getString('k'), 'v');
  b.close();

  const c = new DashMap();
  const t2 = c.share();
  assert.equal(DashMap.releaseShared(t2), true);
  assert.equal(DashMap.releaseShared(t2), false);
  assert.throws(() => DashMap.fromShared(t2), isCode('ERR_DASHMAP_TOKEN_USED'));
  c.set('still', 'alive');
  assert.equal(c.getString('still'), 'alive');
  c.close();

  for (const bad of [undefined, null, 42, {}, { __dashmap: 1 }, { __dashmap: 1n, version: 1, pid: process.pid }]) {
    assert.throws(() => DashMap.fromShared(bad), TypeError);
    assert.throws(() => DashMap.releaseShared(bad), TypeError);
  }
  const d = new DashMap();
  const t3 = d.share();
  assert.throws(() => DashMap.fromShared({ ...t3, version: 99 }), TypeError);
  assert.throws(() => DashMap.fromShared({ ...t3, pid: process.pid + 1 }), isCode('ERR_DASHMAP_TOKEN_PROCESS'));
  assert.equal(DashMap.releaseShared(t3), true);
  d.close();
});

test('stats() is a plain object describing the map', () => {
  const m = new DashMap({ shards: 4 });
  m.setMany([['ab', 'cde'], ['f', '']]);
  const s = m.stats();
  assert.deepEqual(Object.keys(s), ['len', 'capacity', 'shards', 'minShardLen', 'maxShardLen', 'keyBytes', 'valueBytes']);
  assert.equal(s.len, 2);
  assert.equal(s.shards, 4);
  assert.equal(s.keyBytes, 3);
  assert.equal(s.valueBytes, 3);
  assert.ok(s.capacity >= 2 && s.maxShardLen >= 1 && s.minShardLen <= s.maxShardLen);
  m.shrinkToFit();
  assert.equal(m.size, 2);
  m.close();
});

test('DashMapError carries code and status', () => {
  const e = new DashMapError(Status.DM_ERR_NO_MEMORY, 'op');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'DashMapError');
  assert.equal(e.code, 'DM_ERR_NO_MEMORY');
  assert.equal(e.status, -3);
  assert.match(e.message, /^op: .+\(DM_ERR_NO_MEMORY\)$/);
  assert.equal(new DashMapError(-99, 'op').code, 'DM_UNKNOWN_STATUS');
  assert.equal(DashMap.KEEP, KEEP);
});

test('the ESM entry exports the same classes', async () => {
  const esm = await import(pathToFileURL(path.join(__dirname, '..', 'index.mjs')).href);
  assert.equal(esm.DashMap, DashMap);
  assert.equal(esm.default, DashMap);
  assert.equal(esm.DashMapError, DashMapError);
  assert.equal(esm.KEEP, KEEP);
  assert.equal(dashmap.default, DashMap);
  const self = await import('@libdashmap/dashmap');
  assert.equal(self.DashMap, DashMap);
});
