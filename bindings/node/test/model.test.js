'use strict';
// Random operation sequences (seeded PRNG) run against DashMap and against a
// model (a JS Map keyed by the key's hex string). Every method is exercised;
// after each operation the results must agree, and every few hundred
// operations the full contents are compared through each iteration API.

const test = require('node:test');
const assert = require('node:assert/strict');
const { DashMap, DashMapError, KEEP } = require('..');

// mulberry32: small, fast, good enough for test sequences.
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (arr) => arr[int(arr.length)];
  const bytes = (n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  return { next, int, pick, bytes };
}

const hex = (b) => Buffer.from(b).toString('hex');

// A key pool: text keys (usable as strings too) and raw byte keys (not valid
// UTF-8 in general), including the empty key.
function makeKeys(r) {
  const keys = [];
  const texts = ['', 'a', 'user:1', 'user:2', 'é', '€uro', '😀', 'a\0b', 'x'.repeat(40), 'session/αβγ'];
  for (const t of texts) keys.push({ text: t, bytes: Buffer.from(t, 'utf8') });
  for (let i = 0; i < 15; i++) keys.push({ text: `k${i}-${r.int(1000)}`, bytes: null });
  for (let i = 0; i < 15; i++) keys.push({ text: null, bytes: r.bytes(1 + r.int(12)) });
  for (const k of keys) if (k.bytes === null) k.bytes = Buffer.from(k.text, 'utf8');
  return keys;
}

// One of the accepted representations of `bytes` (string only if `text`).
function represent(r, bytes, text) {
  const c = r.int(text !== null ? 3 : 2);
  if (c === 0) return Buffer.from(bytes);
  if (c === 1) {
    // A Uint8Array view with a non-zero offset into a larger buffer.
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    return big.subarray(3, 3 + bytes.length);
  }
  return text;
}

function randomValue(r) {
  const c = r.int(20);
  if (c === 0) return { bytes: Buffer.alloc(0), text: '' };
  if (c === 1) {
    // Larger than the binding's initial 16 KiB scratch: exercises the
    // DM_BUFFER_TOO_SMALL negotiation.
    const b = r.bytes(16 * 1024 + r.int(8192));
    return { bytes: b, text: null };
  }
  if (c < 8) {
    const t = `v${r.int(100000)}${r.pick(['', 'é', '😀', '\u0000'])}`;
    return { bytes: Buffer.from(t, 'utf8'), text: t };
  }
  return { bytes: r.bytes(r.int(24)), text: null };
}

function counterBytes(v) {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v, 0);
  return b;
}

function fromCounter(b) {
  const v = b.readBigInt64LE(0);
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function sortedEntries(iterable) {
  return [...iterable].map(([k, v]) => [hex(k), hex(v)]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

function checkContents(map, model, label) {
  const expected = [...model.entries()].map(([k, v]) => [k, hex(v)]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  assert.equal(map.size, model.size, `${label}: size`);
  assert.deepEqual(sortedEntries(map), expected, `${label}: entries()`);
  const viaForEach = [];
  map.forEach((v, k, m) => {
    assert.equal(m, map);
    viaForEach.push([k, v]);
  });
  assert.deepEqual(sortedEntries(viaForEach), expected, `${label}: forEach`);
  assert.deepEqual([...map.keys()].map(hex).sort(), expected.map((e) => e[0]), `${label}: keys()`);
  assert.deepEqual([...map.values()].map(hex).sort(), expected.map((e) => e[1]).sort(), `${label}: values()`);
  assert.equal(map.stats().len, model.size, `${label}: stats().len`);
}

function runSequence(seed, options, ops) {
  const r = prng(seed);
  const keys = makeKeys(r);
  const map = new DashMap(options);
  const model = new Map();
  const pickKey = () => {
    const k = r.pick(keys);
    return { k, rep: represent(r, k.bytes, k.text), h: hex(k.bytes) };
  };
  const valRep = (v) => represent(r, v.bytes, v.text);
  const counts = {};

  try {
    for (let step = 0; step < ops; step++) {
      const op = r.int(24);
      const label = `seed ${seed} step ${step} op ${op}`;
      counts[op] = (counts[op] || 0) + 1;
      switch (op) {
        case 0: case 1: case 2: { // set
          const { rep, h } = pickKey();
          const v = randomValue(r);
          assert.equal(map.set(rep, valRep(v)), map, label);
          model.set(h, v.bytes);
          break;
        }
        case 3: case 4: { // get
          const { rep, h } = pickKey();
          const got = map.get(rep);
          const want = model.get(h);
          if (want === undefined) assert.equal(got, undefined, label);
          else assert.ok(Buffer.isBuffer(got) && got.equals(want), label);
          break;
        }
        case 5: { // getString
          const { rep, h } = pickKey();
          const want = model.get(h);
          assert.equal(map.getString(rep), want === undefined ? undefined : want.toString('utf8'), label);
          assert.equal(map.getString(rep, 'hex'), want === undefined ? undefined : want.toString('hex'), label);
          break;
        }
        case 6: { // has
          const { rep, h } = pickKey();
          assert.equal(map.has(rep), model.has(h), label);
          break;
        }
        case 7: { // delete
          const { rep, h } = pickKey();
          assert.equal(map.delete(rep), model.delete(h), label);
          break;
        }
        case 8: { // take
          const { rep, h } = pickKey();
          const want = model.get(h);
          const got = map.take(rep);
          if (want === undefined) assert.equal(got, undefined, label);
          else assert.ok(got.equals(want), label);
          model.delete(h);
          break;
        }
        case 9: case 10: { // add
          const { rep, h } = pickKey();
          const cur = model.get(h);
          const delta = r.int(4) === 0 ? BigInt.asIntN(64, BigInt(r.int(2 ** 31)) << BigInt(r.int(40))) : r.int(2001) - 1000;
          if (cur !== undefined && cur.length !== 8) {
            assert.throws(() => map.add(rep, delta), (e) => e instanceof DashMapError && e.code === 'DM_ERR_INVALID', label);
            assert.ok(map.get(rep).equals(cur), `${label}: unchanged after failed add`);
            break;
          }
          const next = BigInt.asIntN(64, (cur === undefined ? 0n : cur.readBigInt64LE(0)) + BigInt(delta));
          const nb = counterBytes(next);
          assert.equal(map.add(rep, delta), fromCounter(nb), label);
          assert.equal(map.getCounter(rep), fromCounter(nb), label);
          model.set(h, nb);
          break;
        }
        case 11: case 12: { // update
          const { rep, h } = pickKey();
          const cur = model.get(h);
          const mode = r.int(5);
          const v = randomValue(r);
          let seen = 'not called';
          const fn = (old) => {
            seen = old;
            if (mode === 0) return valRep(v);
            if (mode === 1) return undefined;
            if (mode === 2) return KEEP;
            if (mode === 3) return Buffer.concat([old || Buffer.alloc(0), Buffer.from('+')]);
            throw new Error('planned failure');
          };
          if (mode === 4) {
            assert.throws(() => map.update(rep, fn), /planned failure/, label);
          } else {
            const res = map.update(rep, fn);
            let want;
            if (mode === 0) want = v.bytes;
            else if (mode === 1) want = undefined;
            else if (mode === 2) want = cur;
            else want = Buffer.concat([cur || Buffer.alloc(0), Buffer.from('+')]);
            if (want === undefined) {
              assert.equal(res, undefined, label);
              model.delete(h);
            } else {
              assert.ok(res.equals(want), label);
              model.set(h, want);
            }
          }
          if (cur === undefined) assert.equal(seen, undefined, label);
          else assert.ok(seen.equals(cur), `${label}: fn saw the old value`);
          break;
        }
        case 13: { // tryInsert
          const { rep, h } = pickKey();
          const v = randomValue(r);
          const want = !model.has(h);
          assert.equal(map.tryInsert(rep, valRep(v)), want, label);
          if (want) model.set(h, v.bytes);
          break;
        }
        case 14: { // getOrInsert
          const { rep, h } = pickKey();
          const v = randomValue(r);
          if (!model.has(h)) model.set(h, v.bytes);
          assert.ok(map.getOrInsert(rep, valRep(v)).equals(model.get(h)), label);
          break;
        }
        case 15: { // compareAndSwap
          const { rep, h } = pickKey();
          const cur = model.get(h);
          const v = randomValue(r);
          const c = r.int(3);
          let expected;
          if (c === 0 && cur !== undefined) expected = { bytes: cur, text: null };
          else if (c === 1) expected = undefined;
          else expected = randomValue(r);
          const match = expected === undefined ? cur === undefined : cur !== undefined && cur.equals(expected.bytes);
          assert.equal(map.compareAndSwap(rep, expected === undefined ? undefined : valRep(expected), valRep(v)), match, label);
          if (match) model.set(h, v.bytes);
          break;
        }
        case 16: { // compareAndDelete
          const { rep, h } = pickKey();
          const cur = model.get(h);
          const expected = cur !== undefined && r.int(2) === 0 ? cur : randomValue(r).bytes;
          const match = cur !== undefined && cur.equals(expected);
          assert.equal(map.compareAndDelete(rep, expected), match, label);
          if (match) model.delete(h);
          break;
        }
        case 17: { // swap
          const { rep, h } = pickKey();
          const v = randomValue(r);
          const cur = model.get(h);
          const got = map.swap(rep, valRep(v));
          if (cur === undefined) assert.equal(got, undefined, label);
          else assert.ok(got.equals(cur), label);
          model.set(h, v.bytes);
          break;
        }
        case 18: { // setMany (duplicates: the last one wins)
          const n = r.int(8);
          const pairs = [];
          for (let i = 0; i < n; i++) {
            const { rep, h } = pickKey();
            const v = randomValue(r);
            pairs.push([rep, valRep(v)]);
            model.set(h, v.bytes);
          }
          assert.equal(map.setMany(r.int(2) ? pairs : new Set(pairs)), map, label);
          break;
        }
        case 19: { // getMany
          const n = r.int(10);
          const ks = [];
          const want = [];
          for (let i = 0; i < n; i++) {
            const { rep, h } = pickKey();
            ks.push(rep);
            want.push(model.get(h));
          }
          const got = map.getMany(ks);
          assert.equal(got.length, n, label);
          for (let i = 0; i < n; i++) {
            if (want[i] === undefined) assert.equal(got[i], undefined, `${label} [${i}]`);
            else assert.ok(got[i].equals(want[i]), `${label} [${i}]`);
          }
          break;
        }
        case 20: { // deleteMany (a key listed twice is removed once)
          const n = r.int(6);
          const ks = [];
          let present = 0;
          for (let i = 0; i < n; i++) {
            const { rep, h } = pickKey();
            ks.push(rep);
            if (model.delete(h)) present++;
          }
          assert.equal(map.deleteMany(ks), present, label);
          break;
        }
        case 21: { // retain with a random predicate
          if (r.int(4) !== 0) break;
          const salt = r.int(7);
          const keep = (kh, v) => (kh.length + v.length + salt) % 3 !== 0;
          let removed = 0;
          for (const [kh, v] of [...model]) {
            if (!keep(kh, v)) {
              model.delete(kh);
              removed++;
            }
          }
          assert.equal(map.retain((v, k) => keep(hex(k), v)), removed, label);
          break;
        }
        case 22: { // size, rarely clear
          if (r.int(40) === 0) {
            map.clear();
            model.clear();
          }
          assert.equal(map.size, model.size, label);
          break;
        }
        default: { // iterate a little and stop early (exercises return())
          let n = 0;
          for (const [k, v] of map) {
            assert.ok(model.get(hex(k)).equals(v), label);
            if (++n === 3) break;
          }
          break;
        }
      }
      if (step % 250 === 249) checkContents(map, model, `seed ${seed} after step ${step}`);
    }
    checkContents(map, model, `seed ${seed} at the end`);
    return counts;
  } finally {
    map.close();
  }
}

const CONFIGS = [
  { seed: 1, options: undefined },
  { seed: 2, options: { shards: 2 } },
  { seed: 3, options: { shards: 64, hasher: 'fast', seed: 7 } },
  { seed: 4, options: { hasher: 'siphash', seed: 123456789n, capacity: 100 } },
  { seed: 5, options: { shards: 4, hasher: 'fast' } },
  { seed: 6, options: { capacity: 1 } },
];

for (const { seed, options } of CONFIGS) {
  test(`random sequence matches the model (seed ${seed}, options ${JSON.stringify(options, (k, v) => (typeof v === 'bigint' ? `${v}n` : v))})`, () => {
    const counts = runSequence(seed, options, 2500);
    // Every operation kind ran.
    for (let op = 0; op < 24; op++) assert.ok(counts[op] > 0, `op ${op} was exercised`);
  });
}
