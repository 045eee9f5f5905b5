/*
 * 14_config_cache.c: a read-mostly configuration map with live reloads.
 *
 * Seed section "Configuration Cache Example". Settings are parsed from
 * "key = value" text into the map with dm_extend. Readers call get() at any
 * time; a reload replaces each setting with dm_swap, which returns the old
 * value (so changes can be logged) and is atomic per key: a reader sees the
 * old or the new value, never a missing or torn one. A "config.generation"
 * counter is published with dm_compare_and_swap, so a reloader working from
 * a stale generation finds out instead of overwriting a newer reload.
 *
 * Last, settings fetched from a remote source are cached for "cache.ttl"
 * seconds: dm_insert_ttl stores a fetched value with that lifetime, a read
 * after it expires misses and fetches again (refresh), and dm_expire(..., 1)
 * invalidates an entry early. That cache runs on a manual clock
 * (dm_options.manual_clock + dm_clock_set), so its timeline is exact.
 */
#include "example_util.h"

#include <stdatomic.h>

static const char *const CONFIG_V1 =
    "# application settings\n"
    "database.host = localhost\n"
    "database.port = 5432\n"
    "cache.ttl     = 3600\n"
    "\n"
    "legacy.mode   = on\n";

static const char *const CONFIG_V2 =
    "database.host = db.internal\n"
    "database.port = 6432\n"
    "cache.ttl     = 600\n"
    "feature.search = enabled\n";

enum { MAX_SETTINGS = 16, RELOADS = 100, READERS = 2 };

struct setting {
    char key[32], value[32];
};

/* Copies a C string into a fixed field, insisting that it fits. */
static void copy_field(char *dst, size_t cap, const char *src) {
    size_t len = strlen(src);
    CHECK(len < cap, "'%s' is too long", src);
    memcpy(dst, src, len + 1);
}

/* Parses "key = value" lines, skipping blanks and # comments. */
static size_t parse(const char *text, struct setting *out) {
    size_t n = 0;
    char line[128];
    while (*text) {
        size_t len = strcspn(text, "\n");
        CHECK(len < sizeof line, "line too long");
        memcpy(line, text, len);
        line[len] = '\0';
        text += len + (text[len] == '\n');
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL) continue;
        *eq = '\0';
        CHECK(n < MAX_SETTINGS, "too many settings");
        /* trim both sides */
        char *k = line, *v = eq + 1;
        while (*k == ' ') k++;
        while (*v == ' ') v++;
        for (char *e = k + strlen(k); e > k && e[-1] == ' ';) *--e = '\0';
        for (char *e = v + strlen(v); e > v && e[-1] == ' ';) *--e = '\0';
        copy_field(out[n].key, sizeof out[n].key, k);
        copy_field(out[n].value, sizeof out[n].value, v);
        n++;
    }
    return n;
}

/* load_from_text: all settings in one batch. */
static void load(dm_map *cfg, const char *text) {
    struct setting s[MAX_SETTINGS];
    size_t n = parse(text, s);
    dm_slice keys[MAX_SETTINGS], vals[MAX_SETTINGS];
    for (size_t i = 0; i < n; i++) {
        keys[i] = (dm_slice){(const uint8_t *)s[i].key, strlen(s[i].key)};
        vals[i] = (dm_slice){(const uint8_t *)s[i].value, strlen(s[i].value)};
    }
    EXPECT(dm_extend(cfg, keys, vals, n), DM_OK);
    uint8_t gen[8];
    put_i64(gen, 1);
    EXPECT(dm_insert(cfg, STR("config.generation"), gen, 8), DM_OK);
}

static int64_t generation(const dm_map *cfg) {
    uint8_t b[8];
    size_t len = 0;
    EXPECT(dm_get_copy(cfg, STR("config.generation"), b, 8, &len), DM_OK);
    return get_i64(b);
}

/* Publishes generation `seen` + 1; false if another reload got there first. */
static bool publish(dm_map *cfg, int64_t seen) {
    uint8_t from[8], to[8];
    put_i64(from, seen);
    put_i64(to, seen + 1);
    dm_status st = dm_compare_and_swap(cfg, STR("config.generation"), from, 8, to, 8);
    CHECK(st == DM_OK || st == DM_MISMATCH, "publish: %s", dm_status_str(st));
    return st == DM_OK;
}

/* Applies new settings: swap each one in (logging changes), then remove
 * settings the new text no longer has. */
static void reload(dm_map *cfg, const char *text, bool verbose) {
    int64_t seen = generation(cfg);
    struct setting s[MAX_SETTINGS];
    size_t n = parse(text, s);
    for (size_t i = 0; i < n; i++) {
        char old[32];
        size_t old_len = 0;
        dm_status st = dm_swap(cfg, STR(s[i].key), STR(s[i].value),
                               (uint8_t *)old, sizeof old, &old_len);
        CHECK(st == DM_OK || st == DM_REPLACED, "swap: %s", dm_status_str(st));
        if (!verbose) continue;
        if (st == DM_OK)
            printf("  + %s = %s\n", s[i].key, s[i].value);
        else if (old_len != strlen(s[i].value) || memcmp(old, s[i].value, old_len))
            printf("  ~ %s: %.*s -> %s\n", s[i].key, (int)old_len, old, s[i].value);
    }
    /* Removed settings: walk the keys with a cursor (which may call the map). */
    dm_iter *it = dm_iter_new(cfg);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    while (dm_iter_next(it, &k, &klen, &v, &vlen) == DM_OK) {
        bool keep = klen == strlen("config.generation") &&
                    memcmp(k, "config.generation", klen) == 0;
        for (size_t i = 0; i < n && !keep; i++)
            keep = klen == strlen(s[i].key) && memcmp(k, s[i].key, klen) == 0;
        if (keep) continue;
        if (verbose) printf("  - %.*s\n", (int)klen, (const char *)k);
        dm_status st = dm_remove(cfg, k, klen, NULL, 0, NULL);
        CHECK(st == DM_OK || st == DM_NOT_FOUND, "remove: %s", dm_status_str(st));
    }
    dm_iter_free(it);
    CHECK(publish(cfg, seen), "we are the only reloader");
}

/* keys(): sorted, for display. */
static int cmp_str(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}
static void print_keys(const dm_map *cfg) {
    char keys[MAX_SETTINGS + 1][32];
    size_t n = 0;
    dm_iter *it = dm_iter_new(cfg);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    while (dm_iter_next(it, &k, &klen, &v, &vlen) == DM_OK) {
        CHECK(n <= MAX_SETTINGS && klen < 32, "small config");
        memcpy(keys[n], k, klen);
        keys[n++][klen] = '\0';
    }
    dm_iter_free(it);
    qsort(keys, n, sizeof keys[0], cmp_str);
    printf("All keys:");
    for (size_t i = 0; i < n; i++) printf(" %s", keys[i]);
    printf("\n");
}

/* ---- a TTL cache in front of a remote source ----------------------------- */

struct remote {
    int version; /* bumped when an administrator changes the setting */
    int fetches; /* how often the cache had to ask */
};

/* Returns the setting, from the cache while it is fresh, else fetched. */
static void cached_get(dm_map *cache, uint64_t ttl_ms, struct remote *src,
                       const char *key, char *out, size_t cap) {
    if (get_str(cache, key, out, cap)) return;
    src->fetches++;
    snprintf(out, cap, "%s@v%d", key, src->version);
    /* Absent or expired: either way the key is new to the map. */
    EXPECT(dm_insert_ttl(cache, STR(key), STR(out), ttl_ms), DM_OK);
}

static void ttl_cache(const dm_map *cfg) {
    char ttl_s[32], v[32];
    CHECK(get_str(cfg, "cache.ttl", ttl_s, sizeof ttl_s), "cache.ttl is set");
    uint64_t ttl_ms = strtoull(ttl_s, NULL, 10) * 1000;
    CHECK(ttl_ms == 600000, "v2's cache.ttl is 600 s");

    dm_options opts = dm_options_default();
    opts.manual_clock = true;
    dm_map *cache = NULL;
    EXPECT(dm_new_with_options(&opts, &cache), DM_OK);
    struct remote src = {.version = 1};
    printf("Remote settings cached for cache.ttl = %s s:\n", ttl_s);

    cached_get(cache, ttl_ms, &src, "feature.limits", v, sizeof v);  /* t = 0: miss */
    src.version = 2; /* changed remotely; the cache does not know yet */
    EXPECT(dm_clock_set(cache, ttl_ms - 1), DM_OK);
    cached_get(cache, ttl_ms, &src, "feature.limits", v, sizeof v);  /* still cached */
    uint64_t left = 0;
    EXPECT(dm_ttl_remaining(cache, STR("feature.limits"), &left), DM_OK);
    printf("  t=%" PRIu64 " ms: %s (cached, %" PRIu64 " ms left, %d fetch)\n",
           ttl_ms - 1, v, left, src.fetches);
    CHECK(strcmp(v, "feature.limits@v1") == 0 && left == 1 && src.fetches == 1,
          "served from the cache until the deadline");

    EXPECT(dm_clock_set(cache, ttl_ms), DM_OK);                       /* expired */
    cached_get(cache, ttl_ms, &src, "feature.limits", v, sizeof v);
    EXPECT(dm_ttl_remaining(cache, STR("feature.limits"), &left), DM_OK);
    printf("  t=%" PRIu64 " ms: %s (refreshed, %" PRIu64 " ms left, %d fetches)\n",
           ttl_ms, v, left, src.fetches);
    CHECK(strcmp(v, "feature.limits@v2") == 0 && left == ttl_ms && src.fetches == 2,
          "refetched at the deadline");

    /* Invalidate early: the entry expires 1 ms from now. */
    src.version = 3;
    EXPECT(dm_expire(cache, STR("feature.limits"), 1), DM_OK);
    EXPECT(dm_clock_set(cache, ttl_ms + 1), DM_OK);
    cached_get(cache, ttl_ms, &src, "feature.limits", v, sizeof v);
    printf("  invalidated with dm_expire: %s (%d fetches)\n", v, src.fetches);
    CHECK(strcmp(v, "feature.limits@v3") == 0 && src.fetches == 3, "refetched");
    dm_free(cache);
}

/* ---- readers running during reloads ------------------------------------ */

static atomic_bool reloading_done;
static struct start_gate gate = START_GATE_INIT;

struct reader {
    const dm_map *cfg;
    long reads;
};

static void *read_config(void *arg) {
    struct reader *r = arg;
    char host[32], port[32], ttl[32];
    gate_wait(&gate);
    do {
        CHECK(get_str(r->cfg, "database.host", host, sizeof host), "host is never missing");
        CHECK(get_str(r->cfg, "database.port", port, sizeof port), "port is never missing");
        CHECK(get_str(r->cfg, "cache.ttl", ttl, sizeof ttl), "ttl is never missing");
        CHECK(!strcmp(host, "localhost") || !strcmp(host, "db.internal"), "host '%s'", host);
        CHECK(!strcmp(port, "5432") || !strcmp(port, "6432"), "port '%s'", port);
        CHECK(!strcmp(ttl, "3600") || !strcmp(ttl, "600"), "ttl '%s'", ttl);
        r->reads++;
    } while (!atomic_load(&reloading_done));
    return NULL;
}

int main(void) {
    dm_map *cfg = dm_new();
    CHECK(cfg != NULL, "dm_new");
    load(cfg, CONFIG_V1);

    char host[32];
    CHECK(get_str(cfg, "database.host", host, sizeof host), "host set");
    printf("Database host: %s\n", host);
    CHECK(strcmp(host, "localhost") == 0, "v1 host");
    print_keys(cfg);

    printf("Reload (generation %" PRId64 "):\n", generation(cfg));
    reload(cfg, CONFIG_V2, true);
    CHECK(generation(cfg) == 2, "generation 2");
    CHECK(!dm_contains_key(cfg, STR("legacy.mode")), "legacy.mode removed");
    print_keys(cfg);

    /* A reloader that read generation 1 before our reload must not publish. */
    CHECK(!publish(cfg, 1), "a stale reloader loses the CAS");
    printf("Stale reloader (saw generation 1): publish refused\n");

    /* Readers keep reading while the config flips back and forth. */
    pthread_t t[READERS];
    struct reader r[READERS];
    for (int i = 0; i < READERS; i++) {
        r[i] = (struct reader){.cfg = cfg};
        start_thread(&t[i], read_config, &r[i]);
    }
    gate_open(&gate);
    for (int i = 0; i < RELOADS; i++) reload(cfg, i % 2 ? CONFIG_V2 : CONFIG_V1, false);
    atomic_store(&reloading_done, true);
    long reads = 0;
    for (int i = 0; i < READERS; i++) {
        join_thread(t[i]);
        reads += r[i].reads;
    }
    printf("%d reloads while %d readers did %ld consistent reads\n", RELOADS,
           READERS, reads);
    CHECK(generation(cfg) == 2 + RELOADS, "one generation per reload");

    /* After an even number of flips we are back at v2, exactly. */
    struct setting s[MAX_SETTINGS];
    size_t n = parse(CONFIG_V2, s);
    CHECK(dm_len(cfg) == n + 1, "v2 settings + generation, got %zu", dm_len(cfg));
    for (size_t i = 0; i < n; i++) {
        char v[32];
        CHECK(get_str(cfg, s[i].key, v, sizeof v) && strcmp(v, s[i].value) == 0,
              "%s = %s", s[i].key, s[i].value);
    }

    ttl_cache(cfg);

    dm_free(cfg);
    printf("14_config_cache: OK\n");
    return 0;
}
