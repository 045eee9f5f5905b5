'use strict';
// Exactly-once processing of messages that arrive more than once: several
// worker threads consume overlapping streams (at-least-once delivery) and
// claim each message id with tryInsert() in a shared "seen" map. Only the
// worker whose insert wins processes the message. Ids older than a horizon
// are then forgotten in one deleteMany() batch.
//
//   node examples/dedupe.js

const assert = require('node:assert/strict');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { DashMap } = require('@libdashmap/dashmap');

const WORKERS = 4;
const UNIQUE = 20000;
const DELIVERIES = 3; // each message is delivered to 3 of the 4 workers

class Deduper {
  constructor(map) {
    this.map = map;
  }

  /** True for the first caller (in any thread) that claims `id`. */
  claim(id, owner) {
    return this.map.tryInsert(id, owner);
  }

  forget(ids) {
    return this.map.deleteMany(ids);
  }
}

// Message m goes to workers m, m+1, ..., m+DELIVERIES-1 (mod WORKERS), and
// each worker sees its messages in a different order.
function streamFor(worker) {
  const ids = [];
  for (let m = 0; m < UNIQUE; m++) {
    const first = m % WORKERS;
    for (let d = 0; d < DELIVERIES; d++) if ((first + d) % WORKERS === worker) ids.push(m);
  }
  if (worker % 2 === 1) ids.reverse();
  return ids;
}

function work({ token, id }) {
  const dedupe = new Deduper(DashMap.fromShared(token));
  let processed = 0;
  let checksum = 0;
  for (const m of streamFor(id)) {
    if (dedupe.claim(`msg:${m}`, `worker-${id}`)) {
      processed++;
      checksum += m; // "process" the message
    }
  }
  dedupe.map.close();
  return { processed, checksum };
}

async function main() {
  const dedupe = new Deduper(new DashMap({ capacity: UNIQUE }));
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, id) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { token: dedupe.map.share(), id } });
    w.once('message', resolve);
    w.once('error', reject);
  })));

  const processed = results.reduce((s, r) => s + r.processed, 0);
  const checksum = results.reduce((s, r) => s + r.checksum, 0);
  assert.equal(processed, UNIQUE, 'every message processed exactly once');
  assert.equal(checksum, (UNIQUE * (UNIQUE - 1)) / 2);
  assert.equal(dedupe.map.size, UNIQUE);

  // Each claim names a worker that actually received the message.
  const owners = {};
  for (const [k, v] of dedupe.map.entries('utf8')) {
    const m = Number(k.slice(4));
    const w = Number(v.slice(7));
    assert.ok(((w - (m % WORKERS) + WORKERS) % WORKERS) < DELIVERIES, `${k} claimed by a worker that never saw it`);
    owners[v] = (owners[v] || 0) + 1;
  }

  // Forget the first half of the id space in one batch.
  const old = Array.from({ length: UNIQUE / 2 }, (_, m) => `msg:${m}`);
  assert.equal(dedupe.forget(old), UNIQUE / 2);
  assert.equal(dedupe.map.size, UNIQUE / 2);
  assert.equal(dedupe.claim('msg:0', 'main'), true, 'a forgotten id can be claimed again');

  console.log(`dedupe: ${WORKERS} workers received ${UNIQUE * DELIVERIES} deliveries of ${UNIQUE} messages, ` +
    `processed ${processed} (per worker ${JSON.stringify(owners)}): ok`);
  dedupe.map.close();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  parentPort.postMessage(work(workerData));
}
