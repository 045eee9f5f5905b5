'use strict';
// One map shared between worker_threads with share()/fromShared(): atomic
// counters stay exact under contention, the cursor sees stable keys exactly
// once while another thread writes, and references outlive their creator.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { DashMap } = require('..');

const PKG = path.resolve(__dirname, '..');

// Runs `body` (the text of a function (DashMap, data, parentPort) => result)
// in a worker; resolves with what it returns.
// Resolves with the body's result once the worker reports it, or, with
// untilExit, once the thread has ended too (its 'exit' hooks have run).
function runWorker(body, workerData, { onMessage, transferList, untilExit = false } = {}) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { DashMap } = require(${JSON.stringify(PKG)});
    Promise.resolve((${body})(DashMap, workerData, parentPort))
      .then((result) => parentPort.postMessage({ done: true, result }))
      .catch((err) => { parentPort.postMessage({ done: true, error: String(err && err.stack || err) }); });
  `;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData, transferList });
    let settled = false;
    let result;
    w.on('message', (msg) => {
      if (msg && msg.done) {
        settled = true;
        if (msg.error) reject(new Error(`worker failed: ${msg.error}`));
        else if (untilExit) result = msg.result;
        else resolve(msg.result);
      } else if (onMessage) {
        onMessage(msg, w);
      }
    });
    w.on('error', reject);
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`worker exited with code ${code} before finishing`));
      else if (untilExit) resolve(result);
    });
  });
}

test('4 workers x 100 000 add() on shared counters give the exact totals', async () => {
  const map = new DashMap({ shards: 16 });
  const WORKERS = 4;
  const N = 100000;
  const KEYS = 8;
  const body = `(DashMap, { token, n, keys, id }) => {
    const m = DashMap.fromShared(token);
    try {
      let last = 0;
      for (let i = 0; i < n; i++) {
        const v = m.add('counter:' + (i % keys), 1);
        if (typeof v !== 'number' || v < 1) throw new Error('bad add result ' + v);
      }
      // One big counter per worker too: bigint deltas.
      m.add('big', 2n ** 40n);
      return id;
    } finally {
      m.close();
    }
  }`;
  const runs = [];
  for (let id = 0; id < WORKERS; id++) {
    runs.push(runWorker(body, { token: map.share(), n: N, keys: KEYS, id }));
  }
  assert.deepEqual((await Promise.all(runs)).sort(), [0, 1, 2, 3]);
  let total = 0;
  for (let k = 0; k < KEYS; k++) {
    const v = map.getCounter(`counter:${k}`);
    assert.equal(v, (WORKERS * N) / KEYS, `counter:${k}`);
    total += v;
  }
  assert.equal(total, WORKERS * N);
  assert.equal(map.getCounter('big'), WORKERS * 2 ** 40);
  map.close();
});

test('iteration while a worker writes sees every stable key exactly once', async () => {
  const map = new DashMap({ shards: 32 });
  const STABLE = 5000;
  for (let i = 0; i < STABLE; i++) map.set(`stable:${i}`, `value:${i}`);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const body = `(DashMap, { token, stop }, port) => {
    const m = DashMap.fromShared(token);
    const flag = new Int32Array(stop);
    let ops = 0;
    port.postMessage('started');
    try {
      for (let i = 0; Atomics.load(flag, 0) === 0; i++) {
        const k = 'volatile:' + (i % 3000);
        if (i % 3 === 2) m.delete(k); else m.set(k, 'x'.repeat(i % 50));
        // Rewrite stable values with the same bytes: stable keys never vanish.
        if (i % 7 === 0) m.set('stable:' + (i % ${STABLE}), 'value:' + (i % ${STABLE}));
        if (i % 11 === 0) m.setMany([['volatile:batch:' + (i % 100), 'b'], ['volatile:batch2', 'c']]);
        ops++;
      }
      return ops;
    } finally {
      m.close();
    }
  }`;
  let started;
  const startedP = new Promise((r) => { started = r; });
  const done = runWorker(body, { token: map.share(), stop: stop.buffer }, { onMessage: (msg) => msg === 'started' && started() });
  await startedP;
  try {
    for (let round = 0; round < 6; round++) {
      const seen = new Map();
      const visit = (k, v) => {
        const key = k.toString();
        if (!key.startsWith('stable:')) return;
        seen.set(key, (seen.get(key) || 0) + 1);
        assert.equal(v.toString(), `value:${key.slice(7)}`);
      };
      if (round % 3 === 0) for (const [k, v] of map) visit(k, v);
      else if (round % 3 === 1) map.forEach((v, k) => visit(k, v));
      else for (const k of map.keys()) visit(k, map.get(k));
      assert.equal(seen.size, STABLE, `round ${round}: every stable key seen`);
      for (const [k, n] of seen) assert.equal(n, 1, `round ${round}: ${k} seen ${n} times`);
      // Let the worker run a little between rounds.
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    Atomics.store(stop, 0, 1);
  }
  const ops = await done;
  assert.ok(ops > 0);
  for (let i = 0; i < STABLE; i++) assert.equal(map.getString(`stable:${i}`), `value:${i}`);
  map.close();
});

test('a token posted with postMessage works, and the map outlives its creator', async () => {
  const map = new DashMap();
  map.set('greeting', 'hello');
  const token = map.share();
  map.close(); // the token's reference keeps the map alive
  const body = `(DashMap, _data, port) => new Promise((resolve, reject) => {
    port.once('message', (token) => {
      try {
        const m = DashMap.fromShared(token);
        const g = m.getString('greeting');
        m.set('reply', g + ' back');
        // The worker hands a new token back to the main thread before closing.
        const back = m.share();
        m.close();
        m.close();
        resolve(back);
      } catch (e) { reject(e); }
    });
    port.postMessage('ready');
  })`;
  const back = await runWorker(body, null, { onMessage: (msg, w) => msg === 'ready' && w.postMessage(token) });
  const again = DashMap.fromShared(back);
  assert.equal(again.getString('reply'), 'hello back');
  again.close();
});

test('a token adopted in one worker cannot be adopted again in another', async () => {
  const map = new DashMap();
  const token = map.share();
  const body = `(DashMap, { token }) => {
    try {
      const m = DashMap.fromShared(token);
      m.close();
      return 'adopted';
    } catch (e) {
      return e.code;
    }
  }`;
  const results = await Promise.all([runWorker(body, { token }), runWorker(body, { token })]);
  assert.deepEqual(results.sort(), ['ERR_DASHMAP_TOKEN_USED', 'adopted']);
  assert.equal(DashMap.releaseShared(token), false);
  map.close();
});

test('update() and tryInsert() are atomic across workers', async () => {
  const map = new DashMap({ shards: 4 });
  const body = `(DashMap, { token, id }) => {
    const m = DashMap.fromShared(token);
    let won = 0;
    for (let i = 0; i < 2000; i++) {
      // Read-modify-write of a decimal string under the shard lock.
      m.update('decimal', (old) => String((old ? Number(old.toString()) : 0) + 1));
      if (m.tryInsert('claim:' + i, String(id))) won++;
    }
    m.close();
    return won;
  }`;
  const wins = await Promise.all([0, 1, 2].map((id) => runWorker(body, { token: map.share(), id })));
  assert.equal(map.getString('decimal'), '6000');
  assert.equal(wins.reduce((a, b) => a + b, 0), 2000, 'each claim won exactly once');
  map.close();
});

test('a worker that ends without close() releases its handles at exit', async () => {
  const map = new DashMap();
  map.set('k', 'v');
  const counts = new Int32Array(new SharedArrayBuffer(8));
  const body = `(DashMap, { token, counts, native }) => {
    // Count the frees done by the exit hook (it runs after this function returns).
    const C = require(native).C;
    const free = C.dm_free;
    const iterFree = C.dm_iter_free;
    const n = new Int32Array(counts);
    C.dm_free = (p) => { Atomics.add(n, 0, 1); free(p); };
    C.dm_iter_free = (p) => { Atomics.add(n, 1, 1); iterFree(p); };
    const shared = DashMap.fromShared(token);
    const own = new DashMap();
    own.set('x', 'y');
    const it = shared.keys();
    it.next();                                   // a started iterator, never finished
    const closed = new DashMap();
    closed.close();                              // already closed: not freed again
    globalThis.keep = [shared, own, it];         // reachable until the very end
    return 'left open';
  }`;
  const data = { token: map.share(), counts: counts.buffer, native: path.join(PKG, 'lib', 'native.js') };
  // The exit hook runs after the body returns: wait for the thread to end.
  assert.equal(await runWorker(body, data, { untilExit: true }), 'left open');
  assert.equal(Atomics.load(counts, 0), 3, 'closed + shared + own map references dropped');
  assert.equal(Atomics.load(counts, 1), 1, 'the open cursor was freed');
  // The main thread's handle is unaffected.
  assert.equal(map.getString('k'), 'v');
  map.close();
});

test('reads stay correct while another thread resizes and removes large values', async () => {
  const map = new DashMap();
  map.set('small', 'tiny value');
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const body = `(DashMap, { token, stop }) => {
    const m = DashMap.fromShared(token);
    const flag = new Int32Array(stop);
    // Values above and below the binding's scratch size, present for short
    // spells, so that a reader often finds a value too large for its buffer
    // and then, on the retry, a different value or none.
    const values = [3 << 20, 100, 64 << 10, 2 << 20].map((n, j) => Buffer.alloc(n, j + 1));
    const spin = (us) => { const end = process.hrtime.bigint() + BigInt(us * 1000); while (process.hrtime.bigint() < end); };
    let i = 0;
    while (Atomics.load(flag, 0) === 0) {
      m.set('big', values[i % values.length]);
      spin(20 + (i % 7) * 10);
      m.delete('big');
      spin(20);
      i++;
    }
    m.close();
    return i;
  }`;
  const done = runWorker(body, { token: map.share(), stop: stop.buffer });
  const big2 = Buffer.alloc(2 << 20, 'x');
  const small2 = Buffer.from('y'.repeat(10));
  const deadline = Date.now() + 400;
  let reads = 0;
  try {
    while (Date.now() < deadline) {
      const big = map.get('big');
      if (big !== undefined) {
        // A value is always one of the sizes written, filled with one byte.
        const j = [3 << 20, 100, 64 << 10, 2 << 20].indexOf(big.length);
        assert.ok(j >= 0, `length ${big.length}`);
        assert.ok(big[0] === j + 1 && big[big.length - 1] === j + 1);
      }
      const old = map.swap('big2', reads % 10 === 0 ? big2 : small2);
      if (old !== undefined) assert.ok(old.equals(big2) || old.equals(small2), `swap returned ${old.length} bytes`);
      assert.equal(map.getString('small'), 'tiny value');
      reads++;
    }
  } finally {
    Atomics.store(stop, 0, 1);
  }
  assert.ok((await done) > 0);
  assert.ok(reads > 0);
  map.close();
});
