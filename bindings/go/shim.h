// C helpers for the Go binding (shim.c). Not part of the public API.
#ifndef DASHMAP_GO_SHIM_H
#define DASHMAP_GO_SHIM_H

#include <stdint.h>
#include "dashmap.h"

// dm_entry_update / dm_retain_cb with the Go trampolines in callbacks.go;
// h is a runtime/cgo.Handle, handed to the trampoline as its context.
dm_status dmgo_entry_update(dm_map *m, const uint8_t *key, size_t key_len, uintptr_t h);
dm_status dmgo_retain(dm_map *m, uintptr_t h);

// The batch calls, with the n keys (and values) packed back to back in one
// buffer plus an array of lengths: Go may not hand C an array of dm_slice
// that holds Go pointers, so the dm_slice arrays are built here, in C memory.
dm_status dmgo_get_many(const dm_map *m, const uint8_t *keys, const size_t *key_lens, size_t n,
                        uint8_t *buf, size_t buf_cap, size_t *lens, size_t *used);
dm_status dmgo_extend(dm_map *m, const uint8_t *keys, const size_t *key_lens,
                      const uint8_t *vals, const size_t *val_lens, size_t n);
dm_status dmgo_remove_many(dm_map *m, const uint8_t *keys, const size_t *key_lens, size_t n,
                           size_t *removed);

#endif
