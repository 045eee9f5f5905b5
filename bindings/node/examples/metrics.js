'use strict';
// Metrics collection from several worker threads into one shared registry:
// counters and latency-histogram buckets are int64 counters updated with
// add(); gauges are plain values overwritten with set(); a dashboard reads
// everything with one getMany() batch. The main thread checks that the
// aggregated counters equal what the workers report they recorded.
//
//   node examples/metrics.js

const assert = require('node:assert/strict');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { DashMap } = require('@libdashmap/dashmap');

const WORKERS = 4;
const REQUESTS = 20000; // per worker
const ROUTES = ['/', '/login', '/api/items', '/api/items/:id', '/health'];
const BUCKETS = [1, 5, 10, 50, 100, Infinity]; // latency upper bounds, ms

class Metrics {
  constructor(map) {
    this.map = map;
  }

  increment(name, by = 1) {
    return this.map.add(`counter:${name}`, by);
  }

  observe(name, ms) {
    const i = BUCKETS.findIndex((b) => ms <= b);
    this.map.add(`histogram:${name}:le=${BUCKETS[i]}`, 1);
    this.map.add(`histogram:${name}:sum_us`, Math.round(ms * 1000));
  }

  gauge(name, value) {
    this.map.set(`gauge:${name}`, String(value));
  }

  counter(name) {
    return this.map.getCounter(`counter:${name}`) ?? 0;
  }

  /** Snapshot of everything, decoded (counters as numbers, gauges as strings). */
  snapshot() {
    const out = {};
    for (const [k, v] of this.map.entries()) {
      const key = k.toString();
      out[key] = key.startsWith('gauge:') ? v.toString() : Number(v.readBigInt64LE(0));
    }
    return out;
  }
}

// A deterministic pseudo-random stream per worker.
function lcg(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function work({ token, id }) {
  const metrics = new Metrics(DashMap.fromShared(token));
  const rnd = lcg(id + 1);
  const recorded = { requests: {}, errors: 0, buckets: {}, sumUs: 0 };
  for (let i = 0; i < REQUESTS; i++) {
    const route = ROUTES[Math.floor(rnd() * ROUTES.length)];
    const ms = rnd() * rnd() * 150;
    metrics.increment(`requests:${route}`);
    recorded.requests[route] = (recorded.requests[route] || 0) + 1;
    if (rnd() < 0.02) {
      metrics.increment('errors');
      recorded.errors++;
    }
    metrics.observe('latency', ms);
    const b = BUCKETS.find((x) => ms <= x);
    recorded.buckets[b] = (recorded.buckets[b] || 0) + 1;
    recorded.sumUs += Math.round(ms * 1000);
    if (i % 1000 === 0) metrics.gauge(`inflight:worker-${id}`, i % 7);
  }
  metrics.gauge(`inflight:worker-${id}`, 0);
  metrics.map.close();
  return recorded;
}

async function main() {
  const metrics = new Metrics(new DashMap({ hasher: 'fast' })); // metric names are trusted
  const reports = await Promise.all(Array.from({ length: WORKERS }, (_, id) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { token: metrics.map.share(), id } });
    w.once('message', resolve);
    w.once('error', reject);
  })));

  // Counters: the sums of what every worker recorded, exactly.
  let total = 0;
  for (const route of ROUTES) {
    const expected = reports.reduce((s, r) => s + (r.requests[route] || 0), 0);
    assert.equal(metrics.counter(`requests:${route}`), expected, route);
    total += expected;
  }
  assert.equal(total, WORKERS * REQUESTS);
  assert.equal(metrics.counter('errors'), reports.reduce((s, r) => s + r.errors, 0));

  // Histogram via one batch read.
  const names = BUCKETS.map((b) => `histogram:latency:le=${b}`);
  const values = metrics.map.getMany(names);
  let observed = 0;
  BUCKETS.forEach((b, i) => {
    const expected = reports.reduce((s, r) => s + (r.buckets[b] || 0), 0);
    const got = values[i] === undefined ? 0 : Number(values[i].readBigInt64LE(0));
    assert.equal(got, expected, `bucket le=${b}`);
    observed += got;
  });
  assert.equal(observed, WORKERS * REQUESTS);
  assert.equal(metrics.map.getCounter('histogram:latency:sum_us'), reports.reduce((s, r) => s + r.sumUs, 0));

  // Gauges: the last value each worker set.
  const snap = metrics.snapshot();
  for (let id = 0; id < WORKERS; id++) assert.equal(snap[`gauge:inflight:worker-${id}`], '0');

  const meanMs = metrics.map.getCounter('histogram:latency:sum_us') / observed / 1000;
  console.log(`metrics: ${WORKERS} workers recorded ${total} requests (${metrics.counter('errors')} errors, ` +
    `mean latency ${meanMs.toFixed(2)} ms) into ${metrics.map.size} series: ok`);
  metrics.map.close();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  parentPort.postMessage(work(workerData));
}
