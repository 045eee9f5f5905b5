/*
 * test_concurrency.c: pthreads against one map.
 *   - T threads x N dm_add_i64 on few keys and on many keys: exact totals;
 *   - a CAS loop (dm_get_copy + dm_compare_and_swap): exact total;
 *   - dm_entry_update increments (dm_entry_set and in place): exact total;
 *   - races: dm_try_insert / dm_remove on the same keys have exactly one winner;
 *   - dm_entry_update applies several changes as one step: readers never see
 *     an intermediate value;
 *   - iteration under concurrent writes: keys 0..K-1, inserted before and never
 *     touched, are seen exactly once per pass by dm_iter and dm_for_each while
 *     other threads insert and remove other keys;
 *   - a bounded map (max_entries): exactly max_entries of many concurrent
 *     inserts succeed, and after insert/remove churn the full room comes back.
 *
 * DM_TEST_THREADS (default 4) and DM_TEST_N (increments per thread, default
 * 20000) scale the load (test-c.sh uses small values under valgrind).
 */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

static long T;        /* threads */
static long N;        /* operations per thread */
enum { MAXT = 64 };

static int64_t get_i64(const dm_map *m, const uint8_t *k, size_t kl) {
    uint8_t b[8];
    size_t len = 0;
    if (dm_get_copy(m, k, kl, b, sizeof b, &len) != DM_OK || len != 8) return INT64_MIN;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return (int64_t)v;
}

static void encode_i64(uint8_t b[8], int64_t x) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)x >> (8 * i));
}

static int64_t decode_i64(const uint8_t b[8]) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return (int64_t)v;
}

struct worker {
    pthread_t thread;
    dm_map *m;
    long id;
    long errors;   /* unexpected statuses */
    long retries;  /* CAS retries */
    long wins;     /* races won */
    long aux;
};

static void run_threads(struct worker *w, void *(*fn)(void *), dm_map *m) {
    for (long t = 0; t < T; t++) {
        w[t] = (struct worker){.m = dm_ref(m), .id = t}; /* one reference per thread */
        if (pthread_create(&w[t].thread, NULL, fn, &w[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }
    for (long t = 0; t < T; t++) pthread_join(w[t].thread, NULL);
}

static long total_errors(const struct worker *w) {
    long e = 0;
    for (long t = 0; t < T; t++) e += w[t].errors;
    return e;
}

/* ---------------------------------------------------------- counters */

enum { FEW = 4, MANY = 1024 };

static void *add_few(void *arg) {
    struct worker *w = arg;
    char key[8];
    for (long j = 0; j < N; j++) {
        int n = snprintf(key, sizeof key, "f%ld", (j + w->id) % FEW);
        int64_t r = 0;
        if (dm_add_i64(w->m, (const uint8_t *)key, (size_t)n, 1, &r) != DM_OK || r < 1) w->errors++;
    }
    dm_free(w->m);
    return NULL;
}

static long many_rounds(void) { return N / MANY > 0 ? N / MANY : 1; }

static void *add_many(void *arg) {
    struct worker *w = arg;
    char key[16];
    for (long r = 0; r < many_rounds(); r++) {
        for (long j = 0; j < MANY; j++) {
            long k = (j * 7 + w->id * 131) % MANY; /* a permutation: every key once per round */
            int n = snprintf(key, sizeof key, "many%ld", k);
            /* Alternate deltas that add up to 1 per visit pair: +3, -2. */
            if (dm_add_i64(w->m, (const uint8_t *)key, (size_t)n, 3, NULL) != DM_OK) w->errors++;
            if (dm_add_i64(w->m, (const uint8_t *)key, (size_t)n, -2, NULL) != DM_OK) w->errors++;
        }
    }
    dm_free(w->m);
    return NULL;
}

static void test_add_i64(void) {
    struct worker w[MAXT];
    dm_map *m = MUST(dm_new());
    run_threads(w, add_few, m);
    CHECK_EQ(total_errors(w), 0);
    int64_t sum = 0;
    for (int k = 0; k < FEW; k++) {
        char key[8];
        int n = snprintf(key, sizeof key, "f%d", k);
        int64_t v = get_i64(m, (const uint8_t *)key, (size_t)n);
        /* Each thread visits key k floor/ceil(N/FEW) times depending on its offset. */
        int64_t want = 0;
        for (long t = 0; t < T; t++) want += (N + FEW - 1 - ((k - t % FEW + FEW) % FEW)) / FEW;
        CHECK_I64(v, want);
        sum += v;
    }
    CHECK_I64(sum, T * N);
    CHECK_EQ(dm_len(m), FEW);
    printf("dm_add_i64, %d keys:    %ld threads x %ld = %" PRId64 " (expected %ld)\n", FEW, T, N, sum, T * N);
    dm_free(m);

    m = MUST(dm_with_shards(16));
    run_threads(w, add_many, m);
    CHECK_EQ(total_errors(w), 0);
    long exact = 0;
    sum = 0;
    for (long k = 0; k < MANY; k++) {
        char key[16];
        int n = snprintf(key, sizeof key, "many%ld", k);
        int64_t v = get_i64(m, (const uint8_t *)key, (size_t)n);
        exact += v == T * many_rounds();
        sum += v;
    }
    CHECK_EQ(exact, MANY);
    CHECK_I64(sum, T * many_rounds() * MANY);
    CHECK_EQ(dm_len(m), MANY);
    printf("dm_add_i64, %d keys: %ld threads x %ld adds (+3, -2 per key visit) = %" PRId64 " (expected %ld)\n", MANY,
           T, many_rounds() * MANY * 2, sum, T * many_rounds() * MANY);
    dm_free(m);
}

/* ---------------------------------------------------------- CAS loop */

static void *cas_loop(void *arg) {
    struct worker *w = arg;
    for (long j = 0; j < N / 4; j++) {
        for (;;) {
            uint8_t cur[8], next[8];
            size_t len = 0;
            if (dm_get_copy(w->m, S("cas"), cur, sizeof cur, &len) != DM_OK || len != 8) {
                w->errors++;
                break;
            }
            encode_i64(next, decode_i64(cur) + 1);
            dm_status st = dm_compare_and_swap(w->m, S("cas"), cur, 8, next, 8);
            if (st == DM_OK) break;
            if (st != DM_MISMATCH) {
                w->errors++;
                break;
            }
            w->retries++;
        }
    }
    dm_free(w->m);
    return NULL;
}

static void test_cas(void) {
    struct worker w[MAXT];
    dm_map *m = MUST(dm_new());
    uint8_t zero[8] = {0};
    CHECK_ST(dm_insert(m, S("cas"), zero, 8), DM_OK);
    run_threads(w, cas_loop, m);
    CHECK_EQ(total_errors(w), 0);
    long retries = 0;
    for (long t = 0; t < T; t++) retries += w[t].retries;
    int64_t v = get_i64(m, S("cas"));
    CHECK_I64(v, T * (N / 4));
    printf("CAS loop:               %ld threads x %ld = %" PRId64 " (expected %ld, %ld retries)\n", T, N / 4, v,
           T * (N / 4), retries);
    dm_free(m);
}

/* ---------------------------------------------------------- entry update */

static void incr_set(dm_entry *e, void *ctx) {
    struct worker *w = ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    int64_t n = 0;
    if (v != NULL) {
        if (len != 8) {
            w->errors++;
            return;
        }
        n = decode_i64(v);
    }
    uint8_t b[8];
    encode_i64(b, n + 1);
    if (dm_entry_set(e, b, 8) != DM_OK) w->errors++;
}

static void incr_in_place(dm_entry *e, void *ctx) {
    struct worker *w = ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    if (v == NULL) {
        incr_set(e, ctx); /* first one creates it */
        return;
    }
    if (len != 8) {
        w->errors++;
        return;
    }
    encode_i64(v, decode_i64(v) + 1);
}

static void *entry_incr(void *arg) {
    struct worker *w = arg;
    for (long j = 0; j < N / 2; j++) {
        dm_entry_fn f = (j + w->id) % 2 ? incr_set : incr_in_place;
        if (dm_entry_update(w->m, S("entry"), f, w) != DM_OK) w->errors++;
    }
    dm_free(w->m);
    return NULL;
}

static void test_entry_increments(void) {
    struct worker w[MAXT];
    dm_map *m = MUST(dm_new());
    run_threads(w, entry_incr, m);
    CHECK_EQ(total_errors(w), 0);
    int64_t v = get_i64(m, S("entry"));
    CHECK_I64(v, T * (N / 2));
    printf("dm_entry_update:        %ld threads x %ld = %" PRId64 " (expected %ld)\n", T, N / 2, v, T * (N / 2));
    dm_free(m);
}

/* ---------------------------------------------------------- races */

enum { RACE_KEYS = 1000 };

static void *race_try_insert(void *arg) {
    struct worker *w = arg;
    char key[16];
    uint8_t id = (uint8_t)w->id;
    for (long k = 0; k < RACE_KEYS; k++) {
        long kk = (k + w->id * 97) % RACE_KEYS;
        int n = snprintf(key, sizeof key, "race%ld", kk);
        dm_status st = dm_try_insert(w->m, (const uint8_t *)key, (size_t)n, &id, 1);
        if (st == DM_OK) w->wins++;
        else if (st != DM_EXISTS) w->errors++;
        /* Once it exists, nobody can replace it through dm_get_or_insert either. */
        uint8_t got = 0xff;
        size_t len = 0;
        st = dm_get_or_insert(w->m, (const uint8_t *)key, (size_t)n, &id, 1, &got, 1, &len);
        if (st != DM_EXISTS || len != 1) w->errors++;
    }
    dm_free(w->m);
    return NULL;
}

static void *race_remove(void *arg) {
    struct worker *w = arg;
    char key[16];
    for (long k = 0; k < RACE_KEYS; k++) {
        long kk = (k + w->id * 97) % RACE_KEYS;
        int n = snprintf(key, sizeof key, "race%ld", kk);
        uint8_t got = 0xff;
        size_t len = 0;
        dm_status st = dm_remove(w->m, (const uint8_t *)key, (size_t)n, &got, 1, &len);
        if (st == DM_OK) {
            w->wins++;
            w->aux += got; /* sum of the removed values: the winners' ids */
        } else if (st != DM_NOT_FOUND) {
            w->errors++;
        }
    }
    dm_free(w->m);
    return NULL;
}

static void test_races(void) {
    struct worker w[MAXT];
    dm_map *m = MUST(dm_new());
    run_threads(w, race_try_insert, m);
    CHECK_EQ(total_errors(w), 0);
    long wins = 0;
    for (long t = 0; t < T; t++) wins += w[t].wins;
    CHECK_EQ(wins, RACE_KEYS);
    CHECK_EQ(dm_len(m), RACE_KEYS);
    /* Every value is the id of a thread, and the ids add up to the wins. */
    long per_thread[MAXT] = {0}, valid = 0;
    for (long k = 0; k < RACE_KEYS; k++) {
        char key[16];
        int n = snprintf(key, sizeof key, "race%ld", k);
        uint8_t id = 0xff;
        size_t len = 0;
        if (dm_get_copy(m, (const uint8_t *)key, (size_t)n, &id, 1, &len) == DM_OK && len == 1 && id < T) {
            per_thread[id]++;
            valid++;
        }
    }
    CHECK_EQ(valid, RACE_KEYS);
    long matching = 0, id_sum = 0;
    for (long t = 0; t < T; t++) {
        matching += per_thread[t] == w[t].wins;
        id_sum += t * w[t].wins;
    }
    CHECK_EQ(matching, T);

    run_threads(w, race_remove, m);
    CHECK_EQ(total_errors(w), 0);
    wins = 0;
    long removed_sum = 0;
    for (long t = 0; t < T; t++) wins += w[t].wins, removed_sum += w[t].aux;
    CHECK_EQ(wins, RACE_KEYS);
    CHECK_EQ(removed_sum, id_sum);
    CHECK_EQ(dm_len(m), 0);
    printf("races:                  %ld try_insert winners, %ld remove winners (expected %d each)\n", valid, wins,
           RACE_KEYS);
    dm_free(m);
}

/* ---------------------------------------------------------- entry atomicity */

static atomic_bool stop_flag;

static void multi_step(dm_entry *e, void *ctx) {
    long *gen = ctx;
    /* Intermediate states nobody may observe. */
    dm_entry_set(e, S("tmp-one"));
    dm_entry_remove(e);
    dm_entry_set(e, S("tmp-two!"));
    char v[16];
    int n = snprintf(v, sizeof v, "final%08ld", ++*gen % 100000000L);
    dm_entry_set(e, (const uint8_t *)v, (size_t)n);
}

static void ghost_step(dm_entry *e, void *ctx) {
    (void)ctx;
    dm_entry_set(e, S("boo"));
    dm_entry_remove(e); /* vacant at the end: "ghost" must never be seen */
}

static void *atomic_writer(void *arg) {
    struct worker *w = arg;
    long gen = 0;
    for (long j = 0; j < N; j++) {
        if (dm_entry_update(w->m, S("atom"), multi_step, &gen) != DM_OK) w->errors++;
        if (dm_entry_update(w->m, S("ghost"), ghost_step, NULL) != DM_OK) w->errors++;
    }
    w->aux = gen;
    dm_free(w->m);
    return NULL;
}

static bool atom_visit(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    long *bad = ctx;
    if (kn == 5 && memcmp(k, "ghost", 5) == 0) ++*bad;
    if (kn == 4 && memcmp(k, "atom", 4) == 0 && (vn != 13 || memcmp(v, "final", 5) != 0)) ++*bad;
    return true;
}

static void *atomic_reader(void *arg) {
    struct worker *w = arg;
    long reads = 0;
    while (!atomic_load(&stop_flag) || reads < 100) {
        uint8_t buf[32];
        size_t len = 0;
        dm_status st = dm_get_copy(w->m, S("atom"), buf, sizeof buf, &len);
        if (st != DM_OK || len != 13 || memcmp(buf, "final", 5) != 0) w->errors++;
        if (dm_contains_key(w->m, S("ghost"))) w->errors++;
        if (reads % 16 == 0 && dm_for_each(w->m, atom_visit, &w->errors) != DM_OK) w->errors++;
        reads++;
    }
    w->aux = reads;
    dm_free(w->m);
    return NULL;
}

static void test_entry_atomicity(void) {
    dm_map *m = MUST(dm_with_shards(2));
    CHECK_ST(dm_insert(m, S("atom"), S("final00000000")), DM_OK);
    CHECK_ST(dm_insert(m, S("filler"), S("x")), DM_OK);
    atomic_store(&stop_flag, false);
    long readers = T > 1 ? T - 1 : 1;
    struct worker wr = {.m = dm_ref(m)}, rd[MAXT];
    for (long t = 0; t < readers; t++) {
        rd[t] = (struct worker){.m = dm_ref(m), .id = t};
        pthread_create(&rd[t].thread, NULL, atomic_reader, &rd[t]);
    }
    pthread_create(&wr.thread, NULL, atomic_writer, &wr);
    pthread_join(wr.thread, NULL);
    atomic_store(&stop_flag, true);
    long errors = 0, reads = 0;
    for (long t = 0; t < readers; t++) {
        pthread_join(rd[t].thread, NULL);
        errors += rd[t].errors;
        reads += rd[t].aux;
    }
    CHECK_EQ(wr.errors, 0);
    CHECK_EQ(errors, 0);
    char want[16];
    snprintf(want, sizeof want, "final%08ld", wr.aux % 100000000L);
    uint8_t buf[32];
    size_t len = 0;
    CHECK_ST(dm_get_copy(m, S("atom"), buf, sizeof buf, &len), DM_OK);
    CHECK_MEM(buf, len, want, 13);
    CHECK(!dm_contains_key(m, S("ghost")));
    CHECK_EQ(dm_len(m), 2);
    printf("entry atomicity:        %ld updates, %ld concurrent reads, %ld intermediate states seen\n", wr.aux, reads,
           errors);
    dm_free(m);
}

/* ---------------------------------------------------------- iteration */

enum { STABLE = 2000 };

static int stable_index(const uint8_t *k, size_t kn) {
    if (kn < 2 || k[0] != 's') return -1;
    int n = 0;
    for (size_t i = 1; i < kn; i++) {
        if (k[i] < '0' || k[i] > '9') return -1;
        n = n * 10 + (k[i] - '0');
    }
    return n < STABLE ? n : -1;
}

static bool stable_value_ok(int i, const uint8_t *v, size_t vn) {
    char want[16];
    int n = snprintf(want, sizeof want, "sv%d", i);
    return vn == (size_t)n && memcmp(v, want, vn) == 0;
}

static void *churn_writer(void *arg) {
    struct worker *w = arg;
    char key[24];
    long j = 0;
    while (!atomic_load(&stop_flag) || j < 1000) {
        if (j % 3 == 2) {
            /* Remove the key inserted by the previous step: it must be there. */
            int n = snprintf(key, sizeof key, "x%ld-%ld", w->id, (j - 1) % 3000);
            if (dm_remove(w->m, (const uint8_t *)key, (size_t)n, NULL, 0, NULL) != DM_OK) w->errors++;
            else w->wins++;
        } else {
            int n = snprintf(key, sizeof key, "x%ld-%ld", w->id, j % 3000);
            if (dm_insert(w->m, (const uint8_t *)key, (size_t)n, S("churn")) < 0) w->errors++;
        }
        if (j % 64 == 0) dm_shrink_to_fit(w->m); /* and make the tables move */
        j++;
    }
    w->aux = j;
    dm_free(w->m);
    return NULL;
}

struct pass {
    int seen[STABLE];
    long bad;
    long others;
};

static void pass_visit(struct pass *p, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    int i = stable_index(k, kn);
    if (i >= 0) {
        if (!stable_value_ok(i, v, vn)) p->bad++;
        p->seen[i]++;
    } else if (kn >= 2 && k[0] == 'x' && vn == 5 && memcmp(v, "churn", 5) == 0) {
        p->others++;
    } else {
        p->bad++;
    }
}

static bool pass_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    pass_visit(ctx, k, kn, v, vn);
    return true;
}

static long exactly_once(const struct pass *p) {
    long n = 0;
    for (int i = 0; i < STABLE; i++) n += p->seen[i] == 1;
    return n;
}

static void test_iteration_under_writes(void) {
    dm_map *m = MUST(dm_with_shards(8));
    char k[16], v[16];
    for (int i = 0; i < STABLE; i++) {
        int kn = snprintf(k, sizeof k, "s%d", i), vn = snprintf(v, sizeof v, "sv%d", i);
        dm_insert(m, (const uint8_t *)k, (size_t)kn, (const uint8_t *)v, (size_t)vn);
    }
    atomic_store(&stop_flag, false);
    long writers = T > 1 ? T - 1 : 1;
    struct worker w[MAXT];
    for (long t = 0; t < writers; t++) {
        w[t] = (struct worker){.m = dm_ref(m), .id = t};
        pthread_create(&w[t].thread, NULL, churn_writer, &w[t]);
    }
    long passes = 0, good_iter = 0, good_for_each = 0, bad = 0, others = 0, len_ok = 0;
    long rounds = N >= 20000 ? 30 : 8;
    static struct pass p;
    for (long r = 0; r < rounds; r++) {
        memset(&p, 0, sizeof p);
        dm_iter *it = dm_iter_new(m);
        const uint8_t *kp, *vp;
        size_t kl, vl;
        dm_status st;
        while ((st = dm_iter_next(it, &kp, &kl, &vp, &vl)) == DM_OK) pass_visit(&p, kp, kl, vp, vl);
        dm_iter_free(it);
        good_iter += st == DM_NOT_FOUND && exactly_once(&p) == STABLE;
        bad += p.bad;
        others += p.others;

        memset(&p, 0, sizeof p);
        st = dm_for_each(m, pass_cb, &p);
        good_for_each += st == DM_OK && exactly_once(&p) == STABLE;
        bad += p.bad;
        others += p.others;
        size_t len = dm_len(m);
        len_ok += len >= STABLE && len <= STABLE + (size_t)writers * 3000;
        passes++;
    }
    atomic_store(&stop_flag, true);
    long writes = 0, removes = 0;
    for (long t = 0; t < writers; t++) {
        pthread_join(w[t].thread, NULL);
        CHECK_EQ(w[t].errors, 0);
        CHECK_EQ(w[t].wins, w[t].aux / 3); /* every removal found its key */
        writes += w[t].aux;
        removes += w[t].wins;
    }
    CHECK_EQ(good_iter, passes);
    CHECK_EQ(good_for_each, passes);
    CHECK_EQ(bad, 0);
    CHECK_EQ(len_ok, passes);
    /* Still all there afterwards. */
    size_t still = 0;
    for (int i = 0; i < STABLE; i++) {
        int kn = snprintf(k, sizeof k, "s%d", i), vn = snprintf(v, sizeof v, "sv%d", i);
        uint8_t buf[16];
        size_t len = 0;
        still += dm_get_copy(m, (const uint8_t *)k, (size_t)kn, buf, sizeof buf, &len) == DM_OK && len == (size_t)vn &&
                 memcmp(buf, v, len) == 0;
    }
    CHECK_EQ(still, STABLE);
    printf("iteration under writes: %ld passes x (dm_iter + dm_for_each), each saw all %d stable keys exactly once "
           "(%ld concurrent writes incl. %ld removals, %ld churn entries seen)\n",
           passes, STABLE, writes, removes, others);
    dm_free(m);
}

#ifdef DM_ERR_FULL
/* ---------------------------------------------------------- bounded map */

enum { BOUND = 500 };

/* Every thread tries to add 2 * BOUND distinct keys of its own. */
static void *bounded_fill(void *arg) {
    struct worker *w = arg;
    char key[24];
    for (long j = 0; j < 2 * BOUND; j++) {
        int n = snprintf(key, sizeof key, "b%ld-%ld", w->id, j);
        dm_status st = dm_insert(w->m, (const uint8_t *)key, (size_t)n, S("v"));
        if (st == DM_OK) w->wins++;
        else if (st != DM_ERR_FULL) w->errors++;
    }
    dm_free(w->m);
    return NULL;
}

/* Insert / remove churn on a bounded map, through several paths. */
static void *bounded_churn(void *arg) {
    struct worker *w = arg;
    char key[24];
    for (long j = 0; j < N / 2; j++) {
        int n = snprintf(key, sizeof key, "c%ld-%ld", w->id, j % 64);
        const uint8_t *k = (const uint8_t *)key;
        dm_status st;
        switch (j % 4) {
        case 0: st = dm_insert(w->m, k, (size_t)n, S("v")); break;
        case 1: st = dm_try_insert(w->m, k, (size_t)n, S("v")); break;
        case 2: st = dm_add_i64(w->m, k, (size_t)n, 1, NULL); break;
        default: st = dm_remove(w->m, k, (size_t)n, NULL, 0, NULL); break;
        }
        /* add_i64 on a 1-byte value: INVALID; anything else unexpected is an error */
        if (st < 0 && st != DM_ERR_FULL && st != DM_ERR_INVALID) w->errors++;
    }
    dm_free(w->m);
    return NULL;
}

static void test_bounded(void) {
    struct worker w[MAXT];
    dm_options o = dm_options_default();
    o.max_entries = BOUND;
    o.shards = 8;
    dm_map *m = NULL;
    CHECK_ST(dm_new_with_options(&o, &m), DM_OK);
    if (m == NULL) return;
    run_threads(w, bounded_fill, m);
    CHECK_EQ(total_errors(w), 0);
    long wins = 0;
    for (long t = 0; t < T; t++) wins += w[t].wins;
    CHECK_EQ(wins, BOUND);
    CHECK_EQ(dm_len(m), BOUND);

    /* Churn with room, then empty it: the full capacity must come back. */
    CHECK_ST(dm_clear(m), DM_OK);
    run_threads(w, bounded_churn, m);
    CHECK_EQ(total_errors(w), 0);
    CHECK(dm_len(m) <= BOUND);
    CHECK_ST(dm_clear(m), DM_OK);
    long fitted = 0;
    char key[24];
    for (long j = 0; j < 2 * BOUND; j++) {
        int n = snprintf(key, sizeof key, "after%ld", j);
        if (dm_insert(m, (const uint8_t *)key, (size_t)n, S("v")) == DM_OK) fitted++;
    }
    CHECK_EQ(fitted, BOUND);
    printf("bounded map:            %ld of %ld concurrent inserts admitted (max_entries %d); %ld fit after churn\n",
           wins, T * 2 * BOUND, BOUND, fitted);
    dm_free(m);
}
#endif

int main(void) {
    T = check_env_long("DM_TEST_THREADS", 4);
    N = check_env_long("DM_TEST_N", 20000);
    if (T > MAXT) T = MAXT;
    N -= N % 4; /* keep N/2 and N/4 exact */
    if (N == 0) N = 4;
    printf("test_concurrency: %ld threads, N = %ld (DM_TEST_THREADS / DM_TEST_N to change)\n", T, N);
    test_add_i64();
    test_cas();
    test_entry_increments();
    test_races();
    test_entry_atomicity();
    test_iteration_under_writes();
#ifdef DM_ERR_FULL
    test_bounded();
#endif
    return check_finish();
}
