// C side of the Go binding: adapters between libdashmap's callback types and
// the exported Go trampolines, and the dm_slice arrays for the batch calls.
#include <stdlib.h>

#include "shim.h"
#include "_cgo_export.h"

// cgo exports take non-const pointers and the handle as an integer; these
// adapters give them the exact signatures libdashmap expects.
static void entry_adapter(dm_entry *e, void *ctx) {
    dmgoEntry(e, (uintptr_t)ctx);
}

static bool visit_adapter(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len,
                          void *ctx) {
    return dmgoVisit((uint8_t *)key, key_len, (uint8_t *)val, val_len, (uintptr_t)ctx);
}

dm_status dmgo_entry_update(dm_map *m, const uint8_t *key, size_t key_len, uintptr_t h) {
    return dm_entry_update(m, key, key_len, entry_adapter, (void *)h);
}

dm_status dmgo_retain(dm_map *m, uintptr_t h) {
    return dm_retain_cb(m, visit_adapter, (void *)h);
}

// Small batches build their dm_slice arrays on the stack.
#define STACK_SLICES 64

// Fills out[0..n) with slices into the packed buffer.
static void unpack(dm_slice *out, const uint8_t *packed, const size_t *lens, size_t n) {
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        out[i].ptr = lens[i] ? packed + off : NULL;
        out[i].len = lens[i];
        off += lens[i];
    }
}

// Returns stack storage when n fits, else malloc'd storage (NULL when out of
// memory); release with release_slices.
static dm_slice *slices_for(size_t n, dm_slice *stack) {
    if (n <= STACK_SLICES) return stack;
    if (n > SIZE_MAX / sizeof(dm_slice)) return NULL;
    return malloc(n * sizeof(dm_slice));
}

static void release_slices(dm_slice *s, dm_slice *stack) {
    if (s != stack) free(s);
}

dm_status dmgo_get_many(const dm_map *m, const uint8_t *keys, const size_t *key_lens, size_t n,
                        uint8_t *buf, size_t buf_cap, size_t *lens, size_t *used) {
    dm_slice stack[STACK_SLICES];
    dm_slice *ks = slices_for(n, stack);
    if (!ks) return DM_ERR_NO_MEMORY;
    unpack(ks, keys, key_lens, n);
    dm_status st = dm_get_many(m, ks, n, buf, buf_cap, lens, used);
    release_slices(ks, stack);
    return st;
}

dm_status dmgo_extend(dm_map *m, const uint8_t *keys, const size_t *key_lens,
                      const uint8_t *vals, const size_t *val_lens, size_t n) {
    dm_slice kstack[STACK_SLICES], vstack[STACK_SLICES];
    dm_slice *ks = slices_for(n, kstack);
    dm_slice *vs = slices_for(n, vstack);
    dm_status st = DM_ERR_NO_MEMORY;
    if (ks && vs) {
        unpack(ks, keys, key_lens, n);
        unpack(vs, vals, val_lens, n);
        st = dm_extend(m, ks, vs, n);
    }
    if (ks) release_slices(ks, kstack);
    if (vs) release_slices(vs, vstack);
    return st;
}

dm_status dmgo_remove_many(dm_map *m, const uint8_t *keys, const size_t *key_lens, size_t n,
                           size_t *removed) {
    dm_slice stack[STACK_SLICES];
    dm_slice *ks = slices_for(n, stack);
    if (!ks) return DM_ERR_NO_MEMORY;
    unpack(ks, keys, key_lens, n);
    dm_status st = dm_remove_many(m, ks, n, removed);
    release_slices(ks, stack);
    return st;
}
