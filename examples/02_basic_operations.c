/*
 * 02_basic_operations.c: insert, get, contains, remove, clear.
 *
 * Seed section "Basic Operations". Keys and values are byte strings that the
 * map copies in; here they are short text ("one" -> "1"). Reading a value
 * copies it out (dm_get_copy into your buffer, or dm_get_alloc into new
 * memory), so no lock is held once a call returns.
 */
#include "example_util.h"

/* dm_entry_update callback that only looks: the key and whether it is set. */
static void peek_entry(dm_entry *e, void *ctx) {
    size_t klen = 0;
    const uint8_t *key = dm_entry_key(e, &klen);
    printf("Entry for '%.*s': %s\n", (int)klen, (const char *)key,
           dm_entry_occupied(e) ? "occupied" : "vacant");
    *(bool *)ctx = dm_entry_occupied(e);
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");

    /* Insert: DM_OK for a new key, DM_REPLACED when a value was replaced. */
    EXPECT(dm_insert(map, STR("one"), STR("1")), DM_OK);
    EXPECT(dm_insert(map, STR("two"), STR("2")), DM_OK);
    EXPECT(dm_insert(map, STR("three"), STR("three?")), DM_OK);
    EXPECT(dm_insert(map, STR("three"), STR("3")), DM_REPLACED);
    printf("Length: %zu\n", dm_len(map));
    CHECK(dm_len(map) == 3, "3 entries, got %zu", dm_len(map));

    /* Get into a caller buffer. */
    char buf[16];
    size_t len = 0;
    EXPECT(dm_get_copy(map, STR("one"), (uint8_t *)buf, sizeof buf, &len), DM_OK);
    printf("Got 'one': %.*s\n", (int)len, buf);
    CHECK(len == 1 && buf[0] == '1', "value of 'one'");

    /* Don't know the size? Ask first (buf = NULL, cap = 0): the needed
     * length comes back with DM_BUFFER_TOO_SMALL and nothing is copied. */
    size_t needed = 0;
    EXPECT(dm_get_copy(map, STR("one"), NULL, 0, &needed), DM_BUFFER_TOO_SMALL);
    CHECK(needed == 1, "needed length %zu", needed);

    /* Or let the library allocate: pair with dm_bytes_free. */
    uint8_t *owned = NULL;
    size_t owned_len = 0;
    EXPECT(dm_get_alloc(map, STR("three"), &owned, &owned_len), DM_OK);
    CHECK(owned_len == 1 && owned[0] == '3', "value of 'three'");
    dm_bytes_free(owned, owned_len);

    EXPECT(dm_get_copy(map, STR("four"), (uint8_t *)buf, sizeof buf, &len),
           DM_NOT_FOUND);

    /* Contains. */
    bool has_two = dm_contains_key(map, STR("two"));
    printf("Contains 'two': %s\n", has_two ? "true" : "false");
    CHECK(has_two, "'two' is present");

    /* Remove, getting the old value back (pass val_len = NULL to discard it). */
    EXPECT(dm_remove(map, STR("two"), (uint8_t *)buf, sizeof buf, &len), DM_OK);
    printf("Removed: '%.*s'\n", (int)len, buf);
    CHECK(len == 1 && buf[0] == '2', "removed value");
    EXPECT(dm_remove(map, STR("two"), NULL, 0, NULL), DM_NOT_FOUND);
    CHECK(!dm_contains_key(map, STR("two")), "'two' is gone");

    /* Remove only if the value is still what we think it is. */
    EXPECT(dm_compare_and_remove(map, STR("one"), STR("100")), DM_MISMATCH);
    EXPECT(dm_compare_and_remove(map, STR("one"), STR("1")), DM_OK);
    EXPECT(dm_insert(map, STR("one"), STR("1")), DM_OK);

    /* The entry for a key: the seed's map.entry("three").key(). */
    bool occupied = false;
    EXPECT(dm_entry_update(map, STR("three"), peek_entry, &occupied), DM_OK);
    CHECK(occupied, "'three' is occupied");

    /* Empty keys and values are ordinary byte strings: (NULL, 0). */
    EXPECT(dm_insert(map, NULL, 0, NULL, 0), DM_OK);
    EXPECT(dm_get_copy(map, NULL, 0, (uint8_t *)buf, sizeof buf, &len), DM_OK);
    CHECK(len == 0, "empty value");

    /* Errors are status codes with names; nothing happens on an error. */
    dm_status st = dm_insert(map, NULL, 3, STR("x"));
    printf("dm_insert(NULL key, 3): %d (%s)\n", (int)st, dm_status_str(st));
    CHECK(st == DM_ERR_NULL && dm_len(map) == 3, "NULL key with length 3");

    /* Clear all. */
    EXPECT(dm_clear(map), DM_OK);
    printf("After clear, len: %zu\n", dm_len(map));
    CHECK(dm_is_empty(map), "empty after clear");

    dm_free(map);
    printf("02_basic_operations: OK\n");
    return 0;
}
