'use strict';
// Exceptions thrown by user callbacks must not be read as answers by C (koffi
// would turn them into 0/false): nothing may be lost, the map stays intact and
// the same keys stay usable. Reentrant use of a map from inside its own
// update()/retain() callback is reported as DM_ERR_REENTRANT.

const test = require('node:test');
const assert = require('node:assert/strict');
const { DashMap, DashMapError, KEEP } = require('..');

function filled(n, options) {
  const m = new DashMap(options);
  for (let i = 0; i < n; i++) m.set(`k${i}`, `v${i}`);
  return m;
}

function snapshot(m) {
  return [...m.entries('utf8')].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const reentrant = (e) => e instanceof DashMapError && e.code === 'DM_ERR_REENTRANT' && e.status === -4;

test('update: an exception changes nothing and propagates as is', () => {
  const m = filled(10);
  const before = snapshot(m);
  const boom = new Error('boom');
  assert.throws(() => m.update('k3', () => { throw boom; }), (e) => e === boom);
  assert.throws(() => m.update('absent', () => { throw boom; }), (e) => e === boom);
  // Non-Error throwables come back unchanged too.
  assert.throws(() => m.update('k3', () => { throw 42; }), (e) => e === 42);
  assert.throws(() => m.update('k3', () => { throw undefined; }), (e) => e === undefined);
  assert.deepEqual(snapshot(m), before);
  assert.equal(m.has('absent'), false);
  // The same key is usable afterwards, through every path.
  assert.equal(m.update('k3', (old) => `${old}!`).toString(), 'v3!');
  assert.equal(m.getString('k3'), 'v3!');
  assert.equal(m.update('absent', (old) => (old === undefined ? 'created' : 'x')).toString(), 'created');
  m.set('k3', 'v3');
  assert.equal(m.delete('absent'), true);
  assert.deepEqual(snapshot(m), before);
  m.close();
});

test('update: KEEP, delete (undefined) and an invalid return value', () => {
  const m = filled(3);
  assert.equal(m.update('k1', () => KEEP).toString(), 'v1');
  assert.equal(m.update('none', () => KEEP), undefined);
  assert.equal(m.has('none'), false);
  assert.equal(m.update('k1', () => undefined), undefined);
  assert.equal(m.has('k1'), false);
  assert.throws(() => m.update('k2', () => 3.14), TypeError);
  assert.equal(m.getString('k2'), 'v2');
  assert.throws(() => m.update('k2', () => null), TypeError);
  assert.equal(m.getString('k2'), 'v2');
  m.close();
});

test('retain: an exception keeps every entry not yet removed and propagates', () => {
  const m = filled(500, { shards: 8 });
  const before = snapshot(m);
  let calls = 0;
  const err = new Error('retain failed');
  assert.throws(() => m.retain(() => {
    if (++calls === 137) throw err;
    return true;
  }), (e) => e === err);
  assert.equal(calls, 137, 'the callback is not called again after it threw');
  assert.deepEqual(snapshot(m), before);

  // Entries the callback already rejected before throwing are removed (that
  // decision was made); everything after the exception is kept.
  let seen = 0;
  const rejected = [];
  assert.throws(() => m.retain((v, k) => {
    if (++seen === 300) throw err;
    if (seen % 2 === 0) {
      rejected.push(k.toString());
      return false;
    }
    return true;
  }), (e) => e === err);
  assert.equal(m.size, 500 - rejected.length);
  for (const k of rejected) assert.equal(m.has(k), false);
  for (const [k, v] of before) if (!rejected.includes(k)) assert.equal(m.getString(k), v);

  // Usable afterwards.
  const hadK1 = m.has('k1');
  assert.equal(m.retain((v) => v.toString() !== 'v1'), hadK1 ? 1 : 0);
  assert.equal(m.has('k1'), false);
  assert.equal(m.retain(() => true), 0);
  m.close();
});

test('forEach: an exception frees the cursor, loses nothing, and propagates', () => {
  const m = filled(200);
  const before = snapshot(m);
  for (let round = 0; round < 50; round++) {
    let n = 0;
    assert.throws(() => m.forEach(() => {
      if (++n === 10) throw new RangeError('stop');
    }), RangeError);
  }
  assert.deepEqual(snapshot(m), before);
  let count = 0;
  m.forEach(() => count++);
  assert.equal(count, 200);
  // thisArg is honoured.
  const ctx = { n: 0 };
  m.forEach(function cb() { this.n++; }, ctx);
  assert.equal(ctx.n, 200);
  m.close();
});

test('an exception inside a for...of loop over the map frees the cursor', () => {
  const m = filled(100);
  for (let round = 0; round < 50; round++) {
    assert.throws(() => {
      for (const [k] of m) if (k.toString() === 'k5') throw new Error('x');
    }, /x/);
  }
  assert.equal([...m].length, 100);
  m.close();
});

test('reentrant use inside update() throws DM_ERR_REENTRANT; the update makes no change', () => {
  const m = filled(5);
  const before = snapshot(m);
  const uses = [
    () => m.get('k1'), () => m.getString('k1'), () => m.set('k1', 'x'), () => m.has('k1'), () => m.has('zz'),
    () => m.delete('k1'), () => m.size, () => m.clear(), () => m.keys().next(), () => m.forEach(() => {}),
    () => m.take('k1'), () => m.add('c', 1), () => m.update('k2', () => 'x'), () => m.tryInsert('n', 'x'),
    () => m.getOrInsert('n', 'x'), () => m.compareAndSwap('k1', 'v1', 'x'), () => m.compareAndDelete('k1', 'v1'),
    () => m.swap('k1', 'x'), () => m.retain(() => false), () => m.setMany([['a', 'b']]), () => m.getMany(['k1']),
    () => m.deleteMany(['k1']), () => m.stats(), () => m.capacity, () => m.shrinkToFit(),
  ];
  for (const use of uses) {
    assert.throws(() => m.update('k0', (old) => {
      use();
      return 'changed';
    }), reentrant, String(use));
    assert.throws(() => m.update('new-key', () => {
      use();
      return 'changed';
    }), reentrant, String(use));
  }
  assert.deepEqual(snapshot(m), before);
  // What is allowed inside: shardCount (no lock), share(), other maps.
  const other = new DashMap();
  m.update('k0', (old) => {
    assert.ok(m.shardCount > 0);
    DashMap.releaseShared(m.share());
    other.set('copied', old);
    other.update('x', () => 'nested update on another map');
    return KEEP;
  });
  assert.equal(other.getString('copied'), 'v0');
  assert.equal(other.getString('x'), 'nested update on another map');
  other.close();
  m.close();
});

test('reentrant use inside retain() throws DM_ERR_REENTRANT; nothing is removed', () => {
  const m = filled(50);
  const before = snapshot(m);
  for (const use of [() => m.get('k1'), () => m.delete('k1'), () => m.has('k1'), () => m.size,
    () => [...m.keys()], () => m.update('k1', () => 'x'), () => m.retain(() => true)]) {
    assert.throws(() => m.retain(() => {
      use();
      return false;
    }), reentrant, String(use));
  }
  assert.deepEqual(snapshot(m), before);
  m.close();
});

test('a map may be used again right after a reentrancy error', () => {
  const m = filled(3);
  assert.throws(() => m.update('k0', () => m.get('k0')), reentrant);
  assert.equal(m.has('k0'), true);
  assert.equal(m.size, 3);
  assert.equal([...m.keys()].length, 3);
  m.close();
});

test('close() from inside a callback is allowed', () => {
  const m = filled(20);
  const res = m.update('k1', () => {
    m.close();
    return 'last write';
  });
  assert.equal(res.toString(), 'last write');
  assert.equal(m.closed, true);

  const m2 = filled(20);
  const t = m2.share();
  let n = 0;
  m2.retain(() => {
    if (++n === 5) m2.close();
    return n % 2 === 0;
  });
  assert.equal(m2.closed, true);
  const again = DashMap.fromShared(t);
  assert.equal(again.size, 10);
  again.close();
});

test('the forEach callback may use the same map (it walks the lock-free cursor)', () => {
  const m = filled(10);
  m.forEach((v, k, map) => {
    assert.equal(map.get(k).toString(), v.toString());
    map.update(k, (old) => `${old}+`);
    assert.ok(map.has(k));
    assert.ok(map.size >= 10);
  });
  assert.ok([...m.values('utf8')].every((v) => v.endsWith('+')));
  m.close();
});
