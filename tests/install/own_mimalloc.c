/* A program with allocator functions of its own named like mimalloc's,
 * linked statically with libdashmap.a (scripts/test-install.sh): it links
 * (no duplicate symbols: the archive's bundled mimalloc has private names),
 * and the library never calls the program's functions, nor the program the
 * library's copy. */
#include <dashmap.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static size_t own_calls;

/* What a program bundling mimalloc (or a wrapper of that name) defines. */
void *mi_malloc(size_t size);
void mi_free(void *p);
void *mi_malloc(size_t size) {
    own_calls++;
    return malloc(size);
}
void mi_free(void *p) {
    own_calls++;
    free(p);
}

int main(void) {
    void *mine = mi_malloc(64);
    mi_free(mine);
    dm_map *m = dm_new();
    if (!m) return 1;
    for (uint32_t i = 0; i < 10000; i++) {
        if (dm_insert(m, (const uint8_t *)&i, sizeof i, (const uint8_t *)"value", 5) != DM_OK) return 1;
    }
    for (uint32_t i = 0; i < 10000; i += 2) {
        if (dm_remove(m, (const uint8_t *)&i, sizeof i, NULL, 0, NULL) != DM_OK) return 1;
    }
    size_t len = dm_len(m);
    dm_free(m);
    if (len != 5000 || own_calls != 2) {
        fprintf(stderr, "own_mimalloc: len %zu (want 5000), the program's mi_malloc/mi_free ran %zu times (want 2)\n",
                len, own_calls);
        return 1;
    }
    return 0;
}
