'use strict';
// The FFI layer: finds libdashmap, declares the dm_ functions with koffi, and
// nothing else. The DashMap class (../index.js) owns every policy decision.
//
// Declarations are ABI-compatible with include/dashmap.h but deliberately
// loose in two places, for speed:
//   - key/value inputs are `const char *`, so koffi accepts a JS string
//     (encoded to UTF-8 in its call arena, no Buffer allocation) as well as a
//     Buffer/Uint8Array (passed by address, no copy); the length argument is
//     always given explicitly, so embedded NULs are fine.
//   - out-parameters (`size_t *`, `int64_t *`, pointer-to-pointer) are
//     `void *` and receive views into one preallocated ArrayBuffer, so no JS
//     array is marshalled in or out per call.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

const BUILD_TREE_LIB = path.resolve(__dirname, '..', '..', '..', 'target', 'release', 'libdashmap.so');

// Where the library is looked for, in order. DASHMAP_LIB, when set, is the
// only candidate: an explicit choice that fails should not silently fall back.
function candidates() {
  const env = process.env.DASHMAP_LIB;
  if (env) return [{ spec: env, why: 'DASHMAP_LIB' }];
  const list = [];
  if (fs.existsSync(BUILD_TREE_LIB)) list.push({ spec: BUILD_TREE_LIB, why: 'build tree' });
  list.push({ spec: 'libdashmap.so.0', why: 'system (SONAME)' });
  list.push({ spec: 'libdashmap.so', why: 'system' });
  return list;
}

function loadLibrary() {
  const errors = [];
  for (const { spec, why } of candidates()) {
    try {
      return { lib: koffi.load(spec), path: spec };
    } catch (err) {
      errors.push(`  ${spec} (${why}): ${err.message}`);
    }
  }
  const e = new Error(
    'libdashmap could not be loaded. Build it (`make lib` in the repository), install it, ' +
    'or set DASHMAP_LIB to the path of libdashmap.so. Tried:\n' + errors.join('\n'));
  e.code = 'ERR_DASHMAP_LOAD';
  throw e;
}

const { lib, path: libraryPath } = loadLibrary();

// Types. Handles are opaque; koffi 3 represents their pointers as BigInt.
const dm_map = koffi.opaque('dm_map');
koffi.opaque('dm_iter');
koffi.opaque('dm_entry');
// Must match include/dashmap.h field for field: the library reads the
// whole struct through the pointer.
koffi.struct('dm_options', {
  capacity: 'size_t',
  shards: 'size_t',
  hasher: 'int32_t',
  seed: 'uint64_t',
  max_entries: 'size_t',
  manual_clock: 'bool',
});
koffi.struct('dm_stats', {
  len: 'size_t',
  capacity: 'size_t',
  shards: 'size_t',
  min_shard_len: 'size_t',
  max_shard_len: 'size_t',
  key_bytes: 'size_t',
  value_bytes: 'size_t',
});
koffi.proto('bool dm_visit_fn(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len, void *ctx)');
koffi.proto('void dm_entry_fn(dm_entry *entry, void *ctx)');

const f = (sig) => lib.func(sig);

const C = {
  dm_status_str: f('const char *dm_status_str(int32_t status)'),
  dm_version: f('const char *dm_version(void)'),
  dm_version_number: f('uint32_t dm_version_number(void)'),

  dm_new_with_options: f('int32_t dm_new_with_options(const dm_options *opts, _Out_ dm_map **out)'),
  dm_ref: f('dm_map *dm_ref(dm_map *map)'),
  dm_free: f('void dm_free(dm_map *map)'),

  dm_insert: f('int32_t dm_insert(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len)'),
  dm_get_copy: f('int32_t dm_get_copy(dm_map *map, const char *key, size_t key_len, void *buf, size_t buf_cap, void *val_len)'),
  dm_contains_key: f('bool dm_contains_key(dm_map *map, const char *key, size_t key_len)'),
  dm_remove: f('int32_t dm_remove(dm_map *map, const char *key, size_t key_len, void *buf, size_t buf_cap, void *val_len)'),
  dm_len: f('size_t dm_len(dm_map *map)'),
  dm_capacity: f('size_t dm_capacity(dm_map *map)'),
  dm_clear: f('int32_t dm_clear(dm_map *map)'),
  dm_shrink_to_fit: f('int32_t dm_shrink_to_fit(dm_map *map)'),
  dm_try_insert: f('int32_t dm_try_insert(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len)'),
  dm_get_or_insert: f('int32_t dm_get_or_insert(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len, void *buf, size_t buf_cap, void *out_len)'),
  dm_compare_and_swap: f('int32_t dm_compare_and_swap(dm_map *map, const char *key, size_t key_len, const char *expected, size_t expected_len, const char *val, size_t val_len)'),
  dm_compare_and_remove: f('int32_t dm_compare_and_remove(dm_map *map, const char *key, size_t key_len, const char *expected, size_t expected_len)'),
  dm_swap: f('int32_t dm_swap(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len, void *old_buf, size_t old_cap, void *old_len)'),
  dm_add_i64: f('int32_t dm_add_i64(dm_map *map, const char *key, size_t key_len, int64_t delta, void *result)'),

  dm_insert_ttl: f('int32_t dm_insert_ttl(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len, uint64_t ttl_ms)'),
  dm_try_insert_ttl: f('int32_t dm_try_insert_ttl(dm_map *map, const char *key, size_t key_len, const char *val, size_t val_len, uint64_t ttl_ms)'),
  dm_add_i64_ttl: f('int32_t dm_add_i64_ttl(dm_map *map, const char *key, size_t key_len, int64_t delta, uint64_t ttl_ms, void *result)'),
  dm_expire: f('int32_t dm_expire(dm_map *map, const char *key, size_t key_len, uint64_t ttl_ms)'),
  dm_touch: f('int32_t dm_touch(dm_map *map, const char *key, size_t key_len, uint64_t ttl_ms)'),
  dm_ttl_remaining: f('int32_t dm_ttl_remaining(dm_map *map, const char *key, size_t key_len, void *ms)'),
  dm_purge_expired: f('int32_t dm_purge_expired(dm_map *map, void *removed)'),
  dm_clock_set: f('int32_t dm_clock_set(dm_map *map, uint64_t now_ms)'),
  dm_clock_now: f('uint64_t dm_clock_now(dm_map *map)'),

  dm_entry_update: f('int32_t dm_entry_update(dm_map *map, const char *key, size_t key_len, dm_entry_fn *f, void *ctx)'),
  dm_entry_value: f('const uint8_t *dm_entry_value(dm_entry *e, void *len)'),
  dm_entry_set: f('int32_t dm_entry_set(dm_entry *e, const char *val, size_t val_len)'),
  dm_entry_remove: f('int32_t dm_entry_remove(dm_entry *e)'),

  dm_retain_cb: f('int32_t dm_retain_cb(dm_map *map, dm_visit_fn *keep, void *ctx)'),

  dm_iter_new: f('dm_iter *dm_iter_new(dm_map *map)'),
  dm_iter_next_many: f('int32_t dm_iter_next_many(dm_iter *it, void *buf, size_t buf_cap, void *lens, size_t max, void *count, void *used)'),
  dm_iter_free: f('void dm_iter_free(dm_iter *it)'),

  dm_extend: f('int32_t dm_extend(dm_map *map, const void *keys, const void *vals, size_t n)'),
  dm_get_many: f('int32_t dm_get_many(dm_map *map, const void *keys, size_t n, void *buf, size_t buf_cap, void *lens, void *used)'),
  dm_remove_many: f('int32_t dm_remove_many(dm_map *map, const void *keys, size_t n, void *removed)'),

  dm_shard_count: f('size_t dm_shard_count(dm_map *map)'),
  dm_stats_get: f('int32_t dm_stats_get(dm_map *map, _Out_ dm_stats *out)'),
};

// memcpy from C memory (a BigInt address handed to a callback) into a
// Buffer. One FFI call is several times cheaper than
// koffi.view()/koffi.decode() for short byte strings.
function loadMemcpy() {
  for (const spec of [null, 'libc.so.6', 'libc.dylib']) {
    try {
      return koffi.load(spec).func('void *memcpy(void *dst, uint64_t src, size_t n)');
    } catch (_) { /* try the next one */ }
  }
  return null;
}
const memcpy = loadMemcpy();

// Copies `len` bytes at C address `ptr` into a new Buffer.
function copyOut(ptr, len) {
  const buf = Buffer.allocUnsafe(len);
  if (len === 0) return buf;
  if (memcpy !== null) memcpy(buf, ptr, len);
  else buf.set(new Uint8Array(koffi.view(ptr, len)));
  return buf;
}

module.exports = { koffi, C, dm_map, copyOut, libraryPath };
