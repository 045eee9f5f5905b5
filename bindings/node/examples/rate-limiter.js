'use strict';
// Fixed-window rate limiter shared by several worker threads (think: the
// threads of one server). One counter per client lives in a single DashMap;
// add(client, 1, windowMs) counts the request and returns the count in the
// current window in one atomic step: the call that creates the counter gives
// it a deadline, later calls keep it, and once it expires the next request
// starts a new window. No thread can sneak past the limit.
//
//   node examples/rate-limiter.js
//
// The map runs on a manual clock so that the outcome is exact and the
// example can check it; a real limiter leaves the clock alone.

const assert = require('node:assert/strict');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { DashMap } = require('@libdashmap/dashmap');

const LIMIT = 50; // requests per client per window
const WINDOW_MS = 1000;
const WINDOWS = 3;
const WORKERS = 4;
const CLIENTS = 20;

class RateLimiter {
  constructor(map, limit, windowMs) {
    this.map = map;
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Counts one request; true when it is within the limit. */
  check(client) {
    return this.map.add(client, 1, this.windowMs) <= this.limit;
  }

  remaining(client) {
    return Math.max(0, this.limit - (this.map.getCounter(client) ?? 0));
  }

  /** Forgets clients whose window is over; returns how many. */
  cleanup() {
    return this.map.purgeExpired();
  }
}

// Client c sends (c + 1) * 5 requests per window, spread over all workers:
// clients 0..8 stay under the limit, the others go over it.
const requestsOf = (client) => (client + 1) * 5;

function work({ token, id }) {
  const limiter = new RateLimiter(DashMap.fromShared(token), LIMIT, WINDOW_MS);
  const allowed = {};
  let window = 0;
  const runWindow = () => {
    for (let c = 0; c < CLIENTS; c++) {
      for (let r = id; r < requestsOf(c); r += WORKERS) {
        if (limiter.check(`client-${c}`)) allowed[c] = (allowed[c] || 0) + 1;
      }
    }
    window++;
    if (window < WINDOWS) {
      parentPort.postMessage({ windowDone: true });
    } else {
      limiter.map.close();
      parentPort.postMessage({ allowed });
      parentPort.close();
    }
  };
  // The main thread advances the clock between windows, then says 'next'.
  parentPort.on('message', (msg) => msg === 'next' && runWindow());
  runWindow();
}

async function main() {
  const map = new DashMap({ manualClock: true });
  const limiter = new RateLimiter(map, LIMIT, WINDOW_MS);
  const workers = [];
  let pending = WORKERS;
  let clock = 0;
  const results = await new Promise((resolve, reject) => {
    const out = [];
    for (let id = 0; id < WORKERS; id++) {
      const w = new Worker(__filename, { workerData: { token: map.share(), id } });
      workers.push(w);
      w.on('error', reject);
      w.on('message', (msg) => {
        if (msg.allowed) {
          out.push(msg.allowed);
          if (out.length === WORKERS) resolve(out);
        } else if (--pending === 0) {
          // Every worker finished this window: check it, then start the next.
          for (let c = 0; c < CLIENTS; c++) {
            assert.equal(limiter.remaining(`client-${c}`), Math.max(0, LIMIT - requestsOf(c)));
          }
          clock += WINDOW_MS;
          map.setClock(clock);
          pending = WORKERS;
          for (const x of workers) x.postMessage('next');
        }
      });
    }
  });

  let totalAllowed = 0;
  for (let c = 0; c < CLIENTS; c++) {
    const allowed = results.reduce((sum, r) => sum + (r[c] || 0), 0);
    const expected = WINDOWS * Math.min(requestsOf(c), LIMIT);
    assert.equal(allowed, expected, `client-${c}: ${allowed} allowed, expected ${expected}`);
    totalAllowed += allowed;
  }
  // After the last window every counter expires and cleanup drops it.
  assert.equal(map.size, CLIENTS);
  map.setClock(clock + WINDOW_MS);
  assert.equal(map.has('client-0'), false);
  const dropped = limiter.cleanup();
  assert.equal(dropped, CLIENTS);
  assert.equal(map.size, 0);
  console.log(`rate-limiter: ${WORKERS} workers, ${CLIENTS} clients x ${WINDOWS} windows, ` +
    `${totalAllowed} requests allowed at limit ${LIMIT}/window, ${dropped} expired counters purged: ok`);
  map.close();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  work(workerData);
}
