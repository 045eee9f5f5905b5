'use strict';
// A session store shared by worker threads. Sessions are JSON documents keyed
// by session id, with a sliding idle timeout (a TTL renewed by touch()). Each
// worker creates sessions, then (after all have been created) works on the
// sessions of its neighbour: atomic read-modify-writes with update(), from
// another thread than the one that created them. Idle sessions expire on
// their own; the main thread purges them and also drops sessions of banned
// users with retain().
//
//   node examples/session-store.js
//
// The map runs on a manual clock so that expiry is exact and checkable.

const assert = require('node:assert/strict');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { DashMap, KEEP } = require('@libdashmap/dashmap');

const WORKERS = 3;
const PER_WORKER = 400;
const TIMEOUT_MS = 100;

class SessionStore {
  constructor(map) {
    this.map = map;
  }

  create(id, user) {
    const session = { user, createdAt: this.map.now(), data: {} };
    // tryInsert: never overwrite a live session with the same id.
    return this.map.tryInsert(id, JSON.stringify(session), TIMEOUT_MS);
  }

  get(id) {
    const raw = this.map.getString(id);
    return raw === undefined ? undefined : JSON.parse(raw);
  }

  /** Marks activity and merges `data`; false when the session does not exist (or expired). */
  touch(id, data) {
    let found = false;
    // update() keeps the entry's TTL; touch() then renews it.
    this.map.update(id, (old) => {
      if (old === undefined) return KEEP; // do not resurrect destroyed sessions
      found = true;
      const s = JSON.parse(old.toString());
      Object.assign(s.data, data);
      return JSON.stringify(s);
    });
    return found && this.map.touch(id, TIMEOUT_MS);
  }

  destroy(id) {
    return this.map.delete(id);
  }

  /** Removes expired sessions; returns how many. (Reads already ignore them.) */
  cleanup() {
    return this.map.purgeExpired();
  }

  /** Destroys every session of the given users; returns how many. */
  ban(users) {
    return this.map.retain((value) => !users.has(JSON.parse(value.toString()).user));
  }
}

const sid = (worker, n) => `sess-${worker}-${n}`;

function work({ token, id }) {
  const store = new SessionStore(DashMap.fromShared(token));
  // Phase 1 (clock 0): create sessions.
  for (let n = 0; n < PER_WORKER; n++) {
    assert.equal(store.create(sid(id, n), `user-${id}-${n}`), true);
  }
  // A duplicate id is refused.
  assert.equal(store.create(sid(id, 0), 'intruder'), false);
  parentPort.postMessage('created');
  // Phase 2 (clock 60, after every worker created its sessions): use the
  // neighbour's sessions, except those with n % 4 === 0, which stay idle;
  // destroy every 10th one.
  parentPort.once('message', () => {
    const neighbour = (id + 1) % WORKERS;
    let touched = 0;
    let destroyed = 0;
    for (let n = 0; n < PER_WORKER; n++) {
      if (n % 10 === 5) {
        if (store.destroy(sid(neighbour, n))) destroyed++;
      } else if (n % 4 !== 0) {
        if (store.touch(sid(neighbour, n), { touchedBy: id, theme: n % 2 ? 'dark' : 'light' })) touched++;
      }
    }
    assert.equal(store.touch('sess-does-not-exist', {}), false);
    store.map.close();
    parentPort.postMessage({ touched, destroyed });
    parentPort.close();
  });
}

async function main() {
  const store = new SessionStore(new DashMap({ manualClock: true }));
  const workers = [];
  const created = [];
  const done = Array.from({ length: WORKERS }, (_, id) => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { token: store.map.share(), id } });
    workers.push(w);
    let signalCreated;
    created.push(new Promise((r) => { signalCreated = r; }));
    w.on('message', (msg) => (msg === 'created' ? signalCreated() : resolve(msg)));
    w.once('error', reject);
  }));
  await Promise.all(created);
  store.map.setClock(60);
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);

  const destroyed = results.reduce((s, r) => s + r.destroyed, 0);
  assert.equal(destroyed, WORKERS * (PER_WORKER / 10));
  assert.equal(store.map.size, WORKERS * PER_WORKER - destroyed);

  // Every surviving recent session was touched by the neighbouring worker.
  for (let w = 0; w < WORKERS; w++) {
    for (const n of [1, 2, 3, 7]) {
      const s = store.get(sid(w, n));
      assert.equal(s.user, `user-${w}-${n}`);
      assert.equal(s.data.touchedBy, (w + WORKERS - 1) % WORKERS);
      assert.equal(store.map.ttl(sid(w, n)), TIMEOUT_MS); // renewed at clock 60
    }
  }

  // At clock 120 the idle sessions (created at 0, deadline 100) have expired;
  // the touched ones (renewed at 60, deadline 160) are alive.
  store.map.setClock(120);
  assert.equal(store.get(sid(0, 0)), undefined);
  assert.equal(store.get(sid(0, 1)).user, 'user-0-1');
  let idle = 0;
  for (let n = 0; n < PER_WORKER; n++) if (n % 4 === 0 && n % 10 !== 5) idle++;
  const expired = store.cleanup();
  assert.equal(expired, WORKERS * idle);
  // Ban two users: retain() removes their sessions wherever they are.
  const banned = store.ban(new Set(['user-1-1', 'user-2-2']));
  assert.equal(banned, 2);
  const live = store.map.size;
  assert.equal(live, WORKERS * PER_WORKER - destroyed - expired - banned);
  for (const [key, value] of store.map.entries('utf8')) {
    assert.ok(key.startsWith('sess-'));
    assert.equal(typeof JSON.parse(value).data.touchedBy, 'number');
  }
  console.log(`session-store: ${WORKERS} workers created ${WORKERS * PER_WORKER} sessions, ` +
    `${results.reduce((s, r) => s + r.touched, 0)} cross-thread touches, ${destroyed} destroyed, ` +
    `${expired} expired, ${banned} banned, ${live} live: ok`);
  store.map.close();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  work(workerData);
}
