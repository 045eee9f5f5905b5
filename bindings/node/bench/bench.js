'use strict';
// Benchmark: DashMap single calls vs batches vs the built-in Map, and the
// throughput of N worker threads doing add() on shared counters.
//
//   DASHMAP_LIB=../../target/release/libdashmap.so node bench/bench.js [--quick]
//
// Every figure is the best of several rounds (least disturbed by other load).

const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const { DashMap, libraryVersion, libraryPath } = require('..');

const QUICK = process.argv.includes('--quick');
const N = QUICK ? 20000 : 200000; // keys
const RUNS = QUICK ? 2 : 7;
const BATCH = 1000;

function best(fn) {
  let min = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns < min) min = ns;
  }
  return min;
}

function workerMain() {
  const { token, ops, keys, barrier, prefix } = workerData;
  const m = DashMap.fromShared(token);
  const names = Array.from({ length: keys }, (_, i) => `${prefix}counter:${i}`);
  const flag = new Int32Array(barrier);
  Atomics.add(flag, 0, 1);
  while (Atomics.load(flag, 1) === 0) Atomics.wait(flag, 1, 0, 50);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) m.add(names[i % keys], 1);
  const ns = Number(process.hrtime.bigint() - t0);
  m.close();
  parentPort.postMessage(ns);
}

async function workerThroughput(workers, opsPerWorker, keys, ownKeys) {
  const map = new DashMap({ shards: 64, hasher: 'fast' });
  const barrier = new SharedArrayBuffer(8);
  const flag = new Int32Array(barrier);
  const ws = [];
  const times = [];
  for (let i = 0; i < workers; i++) {
    const prefix = ownKeys ? `w${i}:` : '';
    const w = new Worker(__filename, { workerData: { token: map.share(), ops: opsPerWorker, keys, barrier, prefix } });
    ws.push(new Promise((resolve, reject) => {
      w.once('message', (ns) => { times.push(ns); resolve(); });
      w.once('error', reject);
    }));
  }
  // Start everyone at once, after all have loaded the library.
  while (Atomics.load(flag, 0) < workers) await new Promise((r) => setTimeout(r, 5));
  const t0 = process.hrtime.bigint();
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  await Promise.all(ws);
  const wall = Number(process.hrtime.bigint() - t0);
  let total = 0;
  for (const [, v] of map) total += Number(v.readBigInt64LE(0));
  if (total !== workers * opsPerWorker) throw new Error(`lost updates: ${total}`);
  map.close();
  return (workers * opsPerWorker) / (wall / 1e9);
}

async function main() {
  const keys = Array.from({ length: N }, (_, i) => `key:${i}:${(i * 2654435761) >>> 0}`);
  const vals = keys.map((k) => `value-for-${k}`);
  const keyBufs = keys.map((k) => Buffer.from(k));
  const valBufs = vals.map((v) => Buffer.from(v));
  const pairs = keys.map((k, i) => [k, vals[i]]);
  const setChunks = [];
  const getChunks = [];
  for (let i = 0; i < N; i += BATCH) {
    setChunks.push(pairs.slice(i, i + BATCH));
    getChunks.push(keys.slice(i, i + BATCH));
  }
  const map = new Map();
  const dm = new DashMap({ capacity: N });
  let sink = 0;

  // [name, baseline name (for the ratio), fn over N keys]. All rows are
  // measured once per round and each keeps its best round, so a burst of
  // load from other processes hits every row alike.
  const rows = [
    ['Map.set (string)', null, () => { for (let i = 0; i < N; i++) map.set(keys[i], vals[i]); }],
    ['Map.get (string)', null, () => { for (let i = 0; i < N; i++) sink += map.get(keys[i]).length; }],
    ['Map iteration', null, () => { for (const [k] of map) sink += k.length; }],
    ['DashMap.set (string)', 'Map.set (string)', () => { for (let i = 0; i < N; i++) dm.set(keys[i], vals[i]); }],
    ['DashMap.get (string)', 'Map.get (string)', () => { for (let i = 0; i < N; i++) sink += dm.get(keys[i]).length; }],
    ['DashMap.set (Buffer)', 'Map.set (string)', () => { for (let i = 0; i < N; i++) dm.set(keyBufs[i], valBufs[i]); }],
    ['DashMap.get (Buffer)', 'Map.get (string)', () => { for (let i = 0; i < N; i++) sink += dm.get(keyBufs[i]).length; }],
    ['DashMap.has (string)', 'Map.get (string)', () => { for (let i = 0; i < N; i++) sink += dm.has(keys[i]) ? 1 : 0; }],
    ['DashMap.add (one key)', 'Map.set (string)', () => { for (let i = 0; i < N; i++) dm.add('counter', 1); }],
    ['DashMap.shardCount (empty FFI call)', 'Map.get (string)', () => { for (let i = 0; i < N; i++) sink += dm.shardCount; }],
    [`DashMap.setMany (${BATCH}/call)`, 'Map.set (string)', () => { for (const c of setChunks) dm.setMany(c); }],
    [`DashMap.getMany (${BATCH}/call)`, 'Map.get (string)', () => { for (const c of getChunks) sink += dm.getMany(c).length; }],
    ['DashMap iteration', 'Map iteration', () => { for (const [k] of dm) sink += k.length; }],
  ];
  const bestNs = new Map(rows.map(([name]) => [name, Infinity]));
  for (let r = 0; r < RUNS; r++) {
    for (const [name, , fn] of rows) {
      const t0 = process.hrtime.bigint();
      fn();
      const ns = Number(process.hrtime.bigint() - t0);
      if (ns < bestNs.get(name)) bestNs.set(name, ns);
    }
  }
  dm.close();

  // Worker threads doing add(): on 64 keys shared by all workers, and on 64
  // keys of their own.
  const ops = QUICK ? 20000 : 200000;
  const throughput = [];
  for (const w of [1, 2, 4]) {
    let shared = 0;
    let own = 0;
    for (let r = 0; r < (QUICK ? 1 : 4); r++) {
      shared = Math.max(shared, await workerThroughput(w, ops, 64, false));
      own = Math.max(own, await workerThroughput(w, ops, 64, true));
    }
    throughput.push({ workers: w, shared, own });
  }

  const load = os.loadavg()[0].toFixed(1);
  console.log(`libdashmap ${libraryVersion()}, node ${process.version}, ${os.cpus().length} CPUs ` +
    `(${os.cpus()[0].model.trim()}), load average ${load} at the end, N=${N}, best of ${RUNS} rounds`);
  console.log('');
  console.log('| operation | ns/op | vs Map |');
  console.log('|---|---:|---:|');
  for (const [name, base] of rows) {
    const ns = bestNs.get(name);
    const ratio = base ? `${(ns / bestNs.get(base)).toFixed(1)}x` : '1.0x';
    console.log(`| ${name} | ${(ns / N).toFixed(0)} | ${ratio} |`);
  }
  const per = (name) => bestNs.get(name);
  console.log('');
  console.log(`Batches vs single calls, per key: setMany ${(per('DashMap.set (string)') / per(`DashMap.setMany (${BATCH}/call)`)).toFixed(2)}x, ` +
    `getMany ${(per('DashMap.get (string)') / per(`DashMap.getMany (${BATCH}/call)`)).toFixed(2)}x the speed.`);
  console.log('');
  console.log('| workers doing add() | 64 shared keys: ops/s | vs 1 worker | 64 own keys each: ops/s | vs 1 worker |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const t of throughput) {
    console.log(`| ${t.workers} | ${(t.shared / 1e6).toFixed(2)} M | ${(t.shared / throughput[0].shared).toFixed(2)}x ` +
      `| ${(t.own / 1e6).toFixed(2)} M | ${(t.own / throughput[0].own).toFixed(2)}x |`);
  }
  if (sink === -1) console.log(sink);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  workerMain();
}
