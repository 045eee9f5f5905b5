/* nd_*: native dashmap (DashMap<Box<[u8]>,Box<[u8]>>) for the benchmark; see src/lib.rs. */
#ifndef DM_BENCH_ND_H
#define DM_BENCH_ND_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct nd_map nd_map;
nd_map *nd_new(int hasher, size_t capacity);
/* shards: a power of two >= 2, or 0 for dashmap's default. */
nd_map *nd_new_sharded(int hasher, size_t capacity, size_t shards);
void nd_free(nd_map *m);
int nd_insert(const nd_map *m, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);
int nd_get_copy(const nd_map *m, const uint8_t *k, size_t kl, uint8_t *buf, size_t cap, size_t *out_len);
int nd_remove(const nd_map *m, const uint8_t *k, size_t kl);
int nd_update(const nd_map *m, const uint8_t *k, size_t kl);
int nd_entry_update(const nd_map *m, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);
size_t nd_len(const nd_map *m);
#ifdef __cplusplus
}
#endif
#endif
