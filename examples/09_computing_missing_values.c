/*
 * 09_computing_missing_values.c: memoisation (compute-if-absent).
 *
 * Seed section "Computing Missing Values". The seed's get-then-insert lets
 * two threads that miss at the same time both compute. Two better patterns:
 *
 *   A. dm_entry_update: compute inside the callback only when the entry is
 *      vacant. The key's shard is write-locked meanwhile, so each key is
 *      computed exactly once, however many threads ask. Other keys in that
 *      shard wait too: use it when the computation is short.
 *
 *   B. dm_get_or_insert: compute outside any lock, then store "unless someone
 *      was first"; every caller gets the stored value back. A rare duplicate
 *      computation is wasted, but a slow computation blocks nobody.
 */
#include "example_util.h"

#include <stdatomic.h>

enum { THREADS = 4, ROUNDS = 200 };
static const char *const WORDS[] = {"hello", "world", "dashmap", "concurrent",
                                    "hash", "map", "shard", "lock"};
enum { NWORDS = sizeof WORDS / sizeof WORDS[0] };

static atomic_int computations;

/* The "expensive" function: key.len() * 100, counting how often it runs. */
static uint64_t expensive_computation(const char *key) {
    atomic_fetch_add(&computations, 1);
    return (uint64_t)strlen(key) * 100;
}

/* ---- A: compute inside the entry callback ------------------------------ */

struct memo {
    const char *key;
    uint64_t value; /* out: the cached or freshly computed value */
    bool computed;  /* out: this call did the work */
};

static void compute_if_absent(dm_entry *e, void *ctx) {
    struct memo *m = ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v != NULL) { /* cached */
        m->value = (uint64_t)get_i64(v);
        return;
    }
    m->value = expensive_computation(m->key);
    m->computed = true;
    uint8_t b[8];
    put_i64(b, (int64_t)m->value);
    EXPECT(dm_entry_set(e, b, sizeof b), DM_OK);
}

static uint64_t get_or_compute(dm_map *cache, const char *key, bool *computed) {
    struct memo m = {.key = key};
    EXPECT(dm_entry_update(cache, STR(key), compute_if_absent, &m), DM_OK);
    if (computed) *computed = m.computed;
    return m.value;
}

/* ---- B: compute first, then get-or-insert ------------------------------ */

/* A value that differs per attempt (thread id + counter), so we can see
 * that every caller ends up with the same, first-stored one. */
static atomic_int token_seq;

static void get_or_make_token(dm_map *tokens, const char *user, char *out,
                              size_t cap) {
    char fresh[64];
    snprintf(fresh, sizeof fresh, "token-%d-for-%s",
             atomic_fetch_add(&token_seq, 1), user);
    size_t len = 0;
    dm_status st = dm_get_or_insert(tokens, STR(user), STR(fresh),
                                    (uint8_t *)out, cap - 1, &len);
    if (st == DM_OK) { /* ours was stored */
        snprintf(out, cap, "%s", fresh);
        return;
    }
    CHECK(st == DM_EXISTS, "get_or_insert: %s", dm_status_str(st));
    out[len] = '\0'; /* somebody else's, copied into out */
}

struct worker {
    dm_map *cache, *tokens;
    int id;
    char token[THREADS][32]; /* what this thread got per user */
};

static struct start_gate gate = START_GATE_INIT;

static void *work(void *arg) {
    struct worker *w = arg;
    gate_wait(&gate);
    for (int r = 0; r < ROUNDS; r++) {
        const char *key = WORDS[(r + w->id) % NWORDS];
        uint64_t v = get_or_compute(w->cache, key, NULL);
        CHECK(v == strlen(key) * 100, "%s -> %" PRIu64, key, v);
    }
    for (int u = 0; u < THREADS; u++) {
        char user[32];
        snprintf(user, sizeof user, "user%d", u);
        get_or_make_token(w->tokens, user, w->token[u], sizeof w->token[u]);
    }
    return NULL;
}

int main(void) {
    dm_map *cache = dm_new();
    dm_map *tokens = dm_new();
    CHECK(cache != NULL && tokens != NULL, "dm_new");

    /* The seed's walk-through: first call computes, second is cached. */
    bool computed = false;
    uint64_t v1 = get_or_compute(cache, "hello", &computed);
    printf("Result: %" PRIu64 " (%s)\n", v1, computed ? "computed" : "cached");
    CHECK(v1 == 500 && computed, "first call computes");
    uint64_t v2 = get_or_compute(cache, "hello", &computed);
    printf("Result: %" PRIu64 " (%s)\n", v2, computed ? "computed" : "cached");
    CHECK(v2 == 500 && !computed, "second call is cached");

    /* Many threads, few keys: each key still computed exactly once. */
    atomic_store(&computations, 0);
    EXPECT(dm_clear(cache), DM_OK);
    pthread_t t[THREADS];
    static struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.cache = cache, .tokens = tokens, .id = i};
        start_thread(&t[i], work, &w[i]);
    }
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);

    int n = atomic_load(&computations);
    printf("A (entry_update): %d lookups of %d keys, %d computations\n",
           THREADS * ROUNDS, NWORDS, n);
    CHECK(n == NWORDS, "each key computed exactly once, not %d times", n);
    CHECK(dm_len(cache) == NWORDS, "%d cached values", NWORDS);

    /* B: attempts may exceed the users (wasted work), but all agree. */
    for (int u = 0; u < THREADS; u++) {
        char user[32], stored[32];
        snprintf(user, sizeof user, "user%d", u);
        CHECK(get_str(tokens, user, stored, sizeof stored), "%s has a token", user);
        for (int i = 0; i < THREADS; i++)
            CHECK(strcmp(w[i].token[u], stored) == 0,
                  "thread %d got '%s' for %s, map has '%s'", i, w[i].token[u],
                  user, stored);
        if (u == 0) printf("B (get_or_insert): every thread got %s = %s\n", user, stored);
    }
    printf("B (get_or_insert): %d attempts for %d users, %zu tokens stored\n",
           atomic_load(&token_seq), THREADS, dm_len(tokens));
    CHECK(dm_len(tokens) == THREADS, "one token per user");

    dm_free(cache);
    dm_free(tokens);
    printf("09_computing_missing_values: OK\n");
    return 0;
}
