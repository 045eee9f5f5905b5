'use strict';
// Time-to-live and the size bound. A manual clock makes expiry deterministic,
// so random sequences can be checked against a model that tracks deadlines.

const test = require('node:test');
const assert = require('node:assert/strict');
const { DashMap, DashMapError, KEEP } = require('..');

function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n) };
}

const full = (e) => e instanceof DashMapError && e.code === 'DM_ERR_FULL' && e.status === -6;

// Model: key -> { value: Buffer, deadline: number | null }. An entry is live
// while now < deadline. Expired entries still count in `size` until removed
// (by purgeExpired or by a write that meets them), so the model keeps them
// and `size` is compared only right after purgeExpired().
class Model {
  constructor() {
    this.now = 0;
    this.entries = new Map();
  }

  live(k) {
    const e = this.entries.get(k);
    if (e === undefined) return undefined;
    if (e.deadline !== null && this.now >= e.deadline) return undefined;
    return e;
  }

  liveCount() {
    let n = 0;
    for (const k of this.entries.keys()) if (this.live(k)) n++;
    return n;
  }

  put(k, value, ttl) {
    this.entries.set(k, { value, deadline: ttl ? this.now + ttl : null });
  }
}

const counter = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
};

test('random TTL sequences on a manual clock match the model', () => {
  for (const seed of [11, 12, 13, 14]) {
    const r = prng(seed);
    const map = new DashMap({ manualClock: true, shards: 4 });
    const model = new Model();
    const keys = Array.from({ length: 12 }, (_, i) => `t${i}`);
    for (let step = 0; step < 3000; step++) {
      const k = keys[r.int(keys.length)];
      const label = `seed ${seed} step ${step}`;
      const ttl = r.int(3) === 0 ? 0 : 1 + r.int(50);
      switch (r.int(14)) {
        case 0: { // set with a TTL (0 = none)
          const v = Buffer.from(`v${step}`);
          map.set(k, v, ttl);
          model.put(k, v, ttl);
          break;
        }
        case 1: { // plain set drops any TTL
          const v = Buffer.from(`p${step}`);
          map.set(k, v);
          model.put(k, v, 0);
          break;
        }
        case 2: { // tryInsert with a TTL
          const v = Buffer.from(`t${step}`);
          const want = model.live(k) === undefined;
          assert.equal(map.tryInsert(k, v, ttl), want, label);
          if (want) model.put(k, v, ttl);
          break;
        }
        case 3: { // add with a TTL: the creating add sets the deadline, later adds keep it
          const e = model.live(k);
          if (e && e.value.length !== 8) {
            assert.throws(() => map.add(k, 1, ttl), (x) => x.code === 'DM_ERR_INVALID', label);
            break;
          }
          const next = (e ? Number(e.value.readBigInt64LE()) : 0) + 1;
          assert.equal(map.add(k, 1, ttl), next, label);
          if (e) e.value = counter(next);
          else model.put(k, counter(next), ttl);
          break;
        }
        case 4: { // plain add keeps an existing TTL
          const e = model.live(k);
          if (e && e.value.length !== 8) break;
          const next = (e ? Number(e.value.readBigInt64LE()) : 0) + 2;
          assert.equal(map.add(k, 2), next, label);
          if (e) e.value = counter(next);
          else model.put(k, counter(next), 0);
          break;
        }
        case 5: { // expire: new TTL or (0) none, only for live entries
          const e = model.live(k);
          assert.equal(map.expire(k, ttl), e !== undefined, label);
          if (e) e.deadline = ttl ? model.now + ttl : null;
          break;
        }
        case 6: { // touch: sliding timeout
          const t = 1 + r.int(40);
          const e = model.live(k);
          assert.equal(map.touch(k, t), e !== undefined, label);
          if (e) e.deadline = model.now + t;
          break;
        }
        case 7: { // ttl()
          const e = model.live(k);
          const want = e === undefined ? undefined : e.deadline === null ? Infinity : e.deadline - model.now;
          assert.equal(map.ttl(k), want, label);
          break;
        }
        case 8: case 9: { // reads ignore expired entries
          const e = model.live(k);
          assert.equal(map.has(k), e !== undefined, label);
          const got = map.get(k);
          if (e === undefined) assert.equal(got, undefined, label);
          else assert.ok(got.equals(e.value), label);
          break;
        }
        case 10: { // update keeps the TTL of an existing entry
          const e = model.live(k);
          const v = Buffer.from(`u${step}`);
          map.update(k, (old) => {
            if (e === undefined) assert.equal(old, undefined, label);
            else assert.ok(old.equals(e.value), label);
            return v;
          });
          if (e) e.value = v;
          else model.put(k, v, 0);
          break;
        }
        case 11: { // advance the clock
          model.now += r.int(20);
          map.setClock(model.now);
          assert.equal(map.now(), model.now, label);
          break;
        }
        case 12: { // purge, then size is exact
          const before = map.size;
          const live = model.liveCount();
          assert.equal(map.purgeExpired(), before - live, label);
          assert.equal(map.size, live, label);
          for (const key of [...model.entries.keys()]) if (!model.live(key)) model.entries.delete(key);
          break;
        }
        default: { // iteration and batches see live entries only
          const want = new Map();
          for (const key of model.entries.keys()) {
            const e = model.live(key);
            if (e) want.set(key, e.value.toString('hex'));
          }
          assert.deepEqual(new Map([...map.entries()].map(([kk, v]) => [kk.toString(), v.toString('hex')])), want, label);
          const got = map.getMany(keys);
          keys.forEach((key, i) => assert.equal(got[i] && got[i].toString('hex'), want.get(key), `${label} getMany ${key}`));
          break;
        }
      }
    }
    map.close();
  }
});

test('moving the manual clock backwards revives entries not yet removed', () => {
  const m = new DashMap({ manualClock: true });
  m.set('k', 'v', 10);
  m.setClock(10);
  assert.equal(m.has('k'), false);
  m.setClock(9);
  assert.equal(m.getString('k'), 'v');
  assert.equal(m.ttl('k'), 1);
  m.close();
});

test('real-time TTL: entries disappear once their time is up', async () => {
  const m = new DashMap();
  assert.throws(() => m.setClock(1), (e) => e.code === 'DM_ERR_INVALID' && /manualClock/.test(e.message));
  const t0 = m.now();
  // 300 ms leaves room for a stalled CI machine between set() and ttl().
  m.set('short', 'x', 300);
  m.set('long', 'y', 60000);
  m.add('hits', 1, 300);
  const left = m.ttl('short');
  assert.ok(left <= 300 && left >= 1, `ttl('short') = ${left}`);
  assert.equal(m.ttl('long') > 30000, true);
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(m.now() - t0 >= 300);
  assert.equal(m.get('short'), undefined);
  assert.equal(m.getCounter('hits'), undefined);
  assert.equal(m.add('hits', 1, 300), 1, 'a new window starts');
  assert.equal(m.getString('long'), 'y');
  assert.equal(m.purgeExpired(), 1);
  m.close();
});

test('TTL arguments are checked', () => {
  const m = new DashMap({ manualClock: true });
  m.set('k', 'v');
  for (const bad of ['1', 1n, null, {}]) {
    assert.throws(() => m.set('k', 'v', bad), TypeError);
    assert.throws(() => m.tryInsert('k', 'v', bad), TypeError);
    assert.throws(() => m.add('c', 1, bad), TypeError);
    assert.throws(() => m.expire('k', bad), TypeError);
    assert.throws(() => m.touch('k', bad), TypeError);
    assert.throws(() => m.setClock(bad), TypeError);
  }
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 60]) {
    assert.throws(() => m.set('k', 'v', bad), RangeError);
    assert.throws(() => m.expire('k', bad), RangeError);
    assert.throws(() => m.setClock(bad), RangeError);
  }
  assert.throws(() => m.touch('k', 0), RangeError);
  assert.equal(m.has('c'), false);
  assert.equal(m.ttl('k'), Infinity);
  m.close();
});

test('maxEntries: new keys beyond the bound get DM_ERR_FULL, updates still work', () => {
  const m = new DashMap({ maxEntries: 3, manualClock: true });
  m.set('a', '1');
  m.set('b', '2');
  m.set('c', '3', 10);
  for (const call of [() => m.set('d', 'x'), () => m.set('d', 'x', 5), () => m.tryInsert('d', 'x'),
    () => m.add('d', 1), () => m.getOrInsert('d', 'x'), () => m.swap('d', 'x'),
    () => m.compareAndSwap('d', undefined, 'x'), () => m.update('d', () => 'x'), () => m.setMany([['d', 'x']])]) {
    assert.throws(call, full, String(call));
  }
  assert.equal(m.has('d'), false);
  // Existing keys: all updates work.
  m.set('a', 'one');
  assert.equal(m.swap('b', 'two').toString(), '2');
  assert.equal(m.update('a', (old) => `${old}!`).toString(), 'one!');
  assert.equal(m.compareAndSwap('b', 'two', 'deux'), true);
  m.setMany([['a', 'A'], ['b', 'B']]);
  assert.equal(m.update('d', () => KEEP), undefined, 'KEEP on an absent key inserts nothing');
  // Deleting makes room; so does removing expired entries (a new key only
  // sweeps its own shard, so purge to be sure).
  assert.equal(m.delete('a'), true);
  m.set('d', '4');
  m.setClock(10);
  assert.equal(m.purgeExpired(), 1);
  m.set('e', '5');
  assert.deepEqual([...m.keys('utf8')].sort(), ['b', 'd', 'e']);
  m.close();
  assert.throws(() => new DashMap({ maxEntries: -1 }), RangeError);
  assert.throws(() => new DashMap({ maxEntries: '3' }), TypeError);
  assert.throws(() => new DashMap({ manualClock: 1 }), TypeError);
});
