'use strict';
// The FinalizationRegistry backstop: maps, adopted handles and half-consumed
// iterators that the program drops without close()/return() are freed by the
// garbage collector, and explicitly closed ones are not freed twice. Runs in a
// child process started with --expose-gc so gc() can be forced.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PKG = path.resolve(__dirname, '..');

const SCRIPT = `
// Count the C frees the registries perform (they look C.dm_free up at call time).
const native = require(${JSON.stringify(path.join(PKG, 'lib', 'native.js'))});
const counts = { maps: 0, iters: 0 };
const { dm_free, dm_iter_free } = native.C;
const { DashMap } = require(${JSON.stringify(PKG)});
const assert = require('node:assert/strict');
const tick = () => new Promise((r) => setImmediate(r));

async function collect() {
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await tick();
  }
}

(async () => {
  const keeper = new DashMap();
  native.C.dm_free = (p) => { counts.maps++; dm_free(p); };
  native.C.dm_iter_free = (p) => { counts.iters++; dm_iter_free(p); };
  keeper.set('alive', 'yes');
  for (let round = 0; round < 5; round++) {
    (() => {
      for (let i = 0; i < 200; i++) {
        // Dropped without close().
        const m = new DashMap({ shards: 4 });
        m.set('k' + i, 'v');
        // Closed explicitly: must not be freed again by the registry.
        const c = new DashMap();
        c.set('x', 'y');
        c.close();
        // An adopted handle on a long-lived map, dropped without close().
        const h = DashMap.fromShared(keeper.share());
        h.set('from-handle', String(i));
        // Half-consumed iterators, dropped without return().
        for (let j = 0; j < 3; j++) keeper.set('e' + j, 'v');
        const it = keeper.entries();
        it.next();
        const it2 = m.keys();
        it2.next();
        // A finished iterator (its cursor was freed by next()).
        const done = m.values();
        while (!done.next().done);
      }
    })();
    await collect();
  }
  // The long-lived map survived every finalizer that dropped one of its references.
  assert.equal(keeper.getString('alive'), 'yes');
  assert.equal(keeper.getString('from-handle'), '199');
  assert.equal([...keeper.keys()].length, 5);
  keeper.close();
  await collect();
  // Explicit close()/finished iterators count too, so only a lower bound on
  // what the collector freed can be checked: well over the explicit ones.
  assert.ok(counts.maps > 1000 + 500, 'dropped maps and handles were freed: ' + counts.maps);
  assert.ok(counts.iters > 1000 + 500, 'dropped iterators were freed: ' + counts.iters);
  process.stdout.write('finalization ok ' + JSON.stringify(counts) + '\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`;

test('dropped maps, handles and iterators are finalized without crashing', (t) => {
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', SCRIPT], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /finalization ok/);
  t.diagnostic(r.stdout.trim());
});
