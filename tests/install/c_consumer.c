/* Out-of-tree C consumer of an installed libdashmap (scripts/test-install.sh):
 * built once through `pkg-config --cflags --libs dashmap` (shared) and once
 * through `pkg-config --static ...` against libdashmap.a only. */
#include <dashmap.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "c_consumer: %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                \
            return 1;                                                      \
        }                                                                  \
    } while (0)

static const uint8_t *b(const char *s) { return (const uint8_t *)s; }

int main(void) {
    CHECK(dm_version_number() == DM_VERSION_NUMBER);
    CHECK(strcmp(dm_version(), DM_VERSION_STRING) == 0);

    dm_map *m = dm_new();
    CHECK(m != NULL);
    CHECK(dm_insert(m, b("hello"), 5, b("world"), 5) == DM_OK);
    CHECK(dm_insert(m, b("hello"), 5, b("there"), 5) == DM_REPLACED);

    uint8_t buf[16];
    size_t len = 0;
    CHECK(dm_get_copy(m, b("hello"), 5, buf, sizeof buf, &len) == DM_OK);
    CHECK(len == 5 && memcmp(buf, "there", 5) == 0);

    int64_t total = 0;
    for (int i = 1; i <= 100; i++) CHECK(dm_add_i64(m, b("n"), 1, i, &total) == DM_OK);
    CHECK(total == 5050);
    CHECK(dm_len(m) == 2);

    dm_map *alias = dm_ref(m);
    dm_free(m);
    CHECK(dm_contains_key(alias, b("hello"), 5));
    CHECK(dm_remove(alias, b("hello"), 5, NULL, 0, NULL) == DM_OK);
    CHECK(dm_len(alias) == 1);
    dm_free(alias);

    printf("c_consumer: ok (libdashmap %s)\n", dm_version());
    return 0;
}
