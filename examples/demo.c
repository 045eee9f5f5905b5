/*
 * demo.c: a two-minute tour of libdashmap (run it with `make demo`).
 *
 *   1. four threads count page hits in one map, with no lock of their own
 *   2. the entry API counts words: insert-or-update as one atomic step
 *   3. iteration: a sorted report, then retain() to drop the rare words
 *   4. try_insert: four threads race, exactly one wins
 *
 * Every result is checked; the program exits non-zero if one is wrong.
 * The numbered examples next to this file cover the whole API.
 */
#include "example_util.h"

#include <ctype.h>

/* ---- 1. hit counters across threads ------------------------------------ */

enum { THREADS = 4, REQUESTS = 2500 };
static const char *const PAGES[] = {"/", "/docs", "/download"};
static struct start_gate gate = START_GATE_INIT, race_gate = START_GATE_INIT;

static void *serve(void *arg) {
    dm_map *hits = arg;
    gate_wait(&gate);
    for (int i = 0; i < REQUESTS; i++) {
        EXPECT(dm_add_i64(hits, STR(PAGES[i % 3]), 1, NULL), DM_OK);
    }
    dm_free(hits); /* this thread's reference */
    return NULL;
}

static int64_t counter(const dm_map *m, const char *key, size_t klen) {
    uint8_t b[8];
    size_t len = 0;
    EXPECT(dm_get_copy(m, (const uint8_t *)key, klen, b, 8, &len), DM_OK);
    return get_i64(b);
}

/* ---- 2. entry API -------------------------------------------------------- */

/* and_modify(|n| n += 1).or_insert(1), under the word's shard lock. */
static void count_word(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    uint8_t *n = dm_entry_value_mut(e, &len);
    if (n != NULL) {
        put_i64(n, get_i64(n) + 1); /* in place */
    } else {
        uint8_t one[8];
        put_i64(one, 1);
        EXPECT(dm_entry_set(e, one, 8), DM_OK);
    }
}

/* ---- 3. iteration --------------------------------------------------------- */

struct word {
    char text[24];
    int64_t count;
};

static int by_count_then_text(const void *a, const void *b) {
    const struct word *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

static bool seen_twice(const uint8_t *k, size_t klen, const uint8_t *v,
                       size_t vlen, void *ctx) {
    (void)k, (void)klen, (void)vlen, (void)ctx;
    return get_i64(v) >= 2;
}

/* ---- 4. one winner -------------------------------------------------------- */

struct racer {
    dm_map *map;
    int id;
    dm_status result;
};

static void *race(void *arg) {
    struct racer *r = arg;
    char me[32];
    snprintf(me, sizeof me, "thread %d", r->id);
    gate_wait(&race_gate);
    r->result = dm_try_insert(r->map, STR("leader"), STR(me));
    return NULL;
}

int main(void) {
    printf("libdashmap %s: a concurrent hash map for C\n", dm_version());
    CHECK(dm_version_number() == DM_VERSION_NUMBER, "header and library versions differ");

    /* 1 */
    printf("\n1. %d threads count %d page hits each, sharing one map\n", THREADS, REQUESTS);
    dm_map *hits = dm_new();
    CHECK(hits != NULL, "dm_new");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) start_thread(&t[i], serve, dm_ref(hits));
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    int64_t total = 0;
    for (int p = 0; p < 3; p++) {
        int64_t n = counter(hits, PAGES[p], strlen(PAGES[p]));
        printf("   %-10s %5" PRId64 " hits\n", PAGES[p], n);
        total += n;
    }
    printf("   total      %5" PRId64 " (no update lost)\n", total);
    CHECK(total == THREADS * REQUESTS, "every hit counted");
    CHECK(counter(hits, "/", 1) == THREADS * ((REQUESTS + 2) / 3), "'/' hits");
    dm_free(hits);

    /* 2 */
    const char *text =
        "the quick brown fox jumps over the lazy dog and the dog sleeps "
        "while the fox runs";
    printf("\n2. Counting words with the entry API:\n   \"%s\"\n", text);
    dm_map *words = dm_new();
    CHECK(words != NULL, "dm_new");
    size_t nwords = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " ");
        if (len > 0) {
            EXPECT(dm_entry_update(words, (const uint8_t *)p, len, count_word, NULL), DM_OK);
            nwords++;
        }
        p += len + (p[len] == ' ');
    }
    printf("   %zu words, %zu distinct\n", nwords, dm_len(words));
    CHECK(nwords == 17 && dm_len(words) == 12, "17 words, 12 distinct");

    /* 3 */
    printf("\n3. Iterating (sorted by count), then retain(count >= 2):\n");
    struct word list[16];
    size_t n = 0;
    dm_iter *it = dm_iter_new(words);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    while (dm_iter_next(it, &k, &klen, &v, &vlen) == DM_OK) {
        CHECK(n < 16 && klen < sizeof list[n].text, "small words");
        memcpy(list[n].text, k, klen);
        list[n].text[klen] = '\0';
        list[n].count = get_i64(v);
        n++;
    }
    dm_iter_free(it);
    qsort(list, n, sizeof list[0], by_count_then_text);
    printf("  ");
    for (size_t i = 0; i < n; i++) printf(" %s:%" PRId64, list[i].text, list[i].count);
    printf("\n");
    CHECK(strcmp(list[0].text, "the") == 0 && list[0].count == 4, "'the' x4 first");
    EXPECT(dm_retain_cb(words, seen_twice, NULL), DM_OK);
    printf("   kept %zu words seen at least twice (the, dog, fox)\n", dm_len(words));
    CHECK(dm_len(words) == 3, "the, dog, fox");
    dm_free(words);

    /* 4 */
    printf("\n4. %d threads race to become leader with dm_try_insert:\n", THREADS);
    dm_map *election = dm_new();
    CHECK(election != NULL, "dm_new");
    struct racer r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){.map = election, .id = i};
        start_thread(&t[i], race, &r[i]);
    }
    gate_open(&race_gate);
    int winners = 0;
    for (int i = 0; i < THREADS; i++) {
        join_thread(t[i]);
        printf("   thread %d: %s\n", i, r[i].result == DM_OK ? "won" : "lost (DM_EXISTS)");
        winners += r[i].result == DM_OK;
    }
    char leader[32];
    CHECK(get_str(election, "leader", leader, sizeof leader), "a leader");
    printf("   leader = \"%s\"\n", leader);
    CHECK(winners == 1, "exactly one winner, got %d", winners);
    dm_free(election);

    printf("\nAll checks passed. Next: examples/README.md lists 18 focused examples.\n");
    return 0;
}
