/*
 * alloc_failure.c: allocation failure is DM_ERR_NO_MEMORY (or NULL), never an
 * abort, and leaves the map unchanged.
 *
 * Each scenario runs in a forked child that first allocates what it needs
 * itself, then caps its own address space with setrlimit(RLIMIT_AS) at its
 * current size plus some headroom (so the numbers adapt to whatever the
 * process already maps), and then asks the library for more than the
 * headroom. A child killed by a signal (Rust's "memory allocation failed"
 * abort) fails the test; so does a timeout.
 *
 *   huge_value        512 MiB values with 256 MiB of headroom: dm_insert,
 *                     dm_insert_ttl, dm_try_insert(_ttl), dm_swap,
 *                     dm_compare_and_swap, dm_get_or_insert, dm_extend and
 *                     dm_entry_set all return DM_ERR_NO_MEMORY; dm_len, the
 *                     old value and its absence of TTL are intact; the map
 *                     still takes small writes.
 *   big_reads         a 192 MiB value with 96 MiB of headroom: dm_get_alloc
 *                     and dm_iter_next return DM_ERR_NO_MEMORY (nothing
 *                     written); dm_get_copy and dm_get_many into the caller's
 *                     buffer work (no allocation); after the limit is lifted
 *                     the same cursor retries and succeeds.
 *   constructors      dm_with_capacity(SIZE_MAX) and friends give NULL,
 *                     dm_new_with_options DM_ERR_NO_MEMORY, both for
 *                     impossible sizes and for a real 50 M-entry request
 *                     under a 64 MiB headroom.
 *   table_growth      inserting small entries under a 64 MiB headroom until
 *                     something fails: the failure is DM_ERR_NO_MEMORY, the
 *                     map holds exactly the entries that succeeded, stays
 *                     usable; dm_extend then fails cleanly too.
 * And, for the record (printed, not failed): whether dm_shrink_to_fit under
 * a zero-headroom limit aborts (hashbrown's shrink_to cannot fail softly).
 */
#include "rel.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MiB ((size_t)1 << 20)
#define SENT_LEN ((size_t)0xDEADBEEF)

static size_t vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

/* Caps the address space at its current size + `headroom`. */
static void limit_headroom(size_t headroom) {
    struct rlimit rl = {vm_size() + headroom, RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        perror("setrlimit");
        _exit(3);
    }
}

static void unlimit(void) {
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_AS, &rl);
}

/* A read-only region of zero pages: costs address space, not memory. */
static const uint8_t *zero_region(size_t n) {
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(3);
    }
    return p;
}

static const uint8_t *B(const char *s) { return (const uint8_t *)s; }

static bool value_is(dm_map *m, const char *k, const char *want) {
    uint8_t buf[64];
    size_t len = 0;
    return dm_get_copy(m, B(k), strlen(k), buf, sizeof buf, &len) == DM_OK && len == strlen(want) &&
           memcmp(buf, want, len) == 0;
}

/* ---------------------------------------------------------------------- */

static dm_status huge_set_cb_status;
static void set_huge(dm_entry *e, void *ctx) {
    const uint8_t *huge = ctx;
    huge_set_cb_status = dm_entry_set(e, huge, 512 * MiB);
}

static int scenario_huge_value(void) {
    dm_map *m = dm_new();
    if (!m || dm_insert(m, B("k"), 1, B("old"), 3) != DM_OK) return 1;
    dm_status st0 = dm_insert(m, B("other"), 5, B("x"), 1);
    if (st0 != DM_OK) return 1;
    const uint8_t *huge = zero_region(512 * MiB);
    limit_headroom(256 * MiB);
    const size_t H = 512 * MiB;
    dm_slice kk[1] = {{B("new"), 3}}, vv[1] = {{huge, H}};
    size_t len = SENT_LEN;
    uint8_t buf[16];
#define EXPECT_NOMEM(expr) REL_CHECK_EQ((expr), DM_ERR_NO_MEMORY, #expr)
    EXPECT_NOMEM(dm_insert(m, B("k"), 1, huge, H));       /* replace an existing key */
    EXPECT_NOMEM(dm_insert(m, B("new"), 3, huge, H));     /* a new key */
    EXPECT_NOMEM(dm_insert_ttl(m, B("k"), 1, huge, H, 1000));
    EXPECT_NOMEM(dm_try_insert(m, B("new"), 3, huge, H));
    EXPECT_NOMEM(dm_try_insert_ttl(m, B("new"), 3, huge, H, 1000));
    EXPECT_NOMEM(dm_swap(m, B("k"), 1, huge, H, buf, sizeof buf, &len));
    EXPECT_NOMEM(dm_compare_and_swap(m, B("k"), 1, B("old"), 3, huge, H));
    EXPECT_NOMEM(dm_get_or_insert(m, B("new"), 3, huge, H, buf, sizeof buf, &len));
    EXPECT_NOMEM(dm_extend(m, kk, vv, 1));
    REL_CHECK_EQ(len, SENT_LEN, "no out-length written on DM_ERR_NO_MEMORY");
    REL_CHECK_EQ(dm_entry_update(m, B("k"), 1, set_huge, (void *)huge), DM_OK, "dm_entry_update");
    REL_CHECK_EQ(huge_set_cb_status, DM_ERR_NO_MEMORY, "dm_entry_set of a 512 MiB value");
    /* Unchanged: length, old value, no TTL, no new key. */
    REL_CHECK_EQ(dm_len(m), 2, "dm_len after the failures");
    REL_CHECK(value_is(m, "k", "old"), "the old value survived");
    uint64_t ms = 0;
    REL_CHECK(dm_ttl_remaining(m, B("k"), 1, &ms) == DM_OK && ms == DM_TTL_NONE, "no TTL appeared");
    REL_CHECK(!dm_contains_key(m, B("new"), 3), "no new key");
    /* Still usable under the limit. */
    REL_CHECK_EQ(dm_insert(m, B("k"), 1, B("small"), 5), DM_REPLACED, "small insert under the limit");
    REL_CHECK(value_is(m, "k", "small"), "small value stored");
    unlimit();
    dm_free(m);
    printf("  huge_value: 512 MiB values under %zu MiB of headroom: 10 calls -> DM_ERR_NO_MEMORY, map unchanged\n",
           (size_t)256);
    return 0;
}

static int scenario_big_reads(void) {
    const size_t N = 192 * MiB;
    uint8_t *val = malloc(N), *copy = malloc(N + 1);
    if (!val || !copy) return 1;
    memset(val, 0x5A, N);
    dm_map *m = dm_with_shards(2);
    if (dm_insert(m, B("big"), 3, val, N) != DM_OK) return 1;
    free(val);
    dm_insert(m, B("a"), 1, B("1"), 1);
    dm_iter *it = dm_iter_new(m);
    if (!it) return 1;
    limit_headroom(96 * MiB);

    uint8_t *out = (uint8_t *)(uintptr_t)1;
    size_t out_len = 777;
    REL_CHECK_EQ(dm_get_alloc(m, B("big"), 3, &out, &out_len), DM_ERR_NO_MEMORY, "dm_get_alloc of 192 MiB");
    REL_CHECK(out == (uint8_t *)(uintptr_t)1 && out_len == 777, "dm_get_alloc wrote on failure");
    dm_slice ks[2] = {{B("a"), 1}, {B("big"), 3}};
    size_t lens[2], used = 0;
    /* dm_get_many packs straight into the caller's buffer: no allocation. */
    REL_CHECK_EQ(dm_get_many(m, ks, 2, copy, N + 1, lens, &used), DM_OK, "dm_get_many of 192 MiB into the caller's buffer");
    REL_CHECK(used == N + 1 && lens[0] == 1 && lens[1] == N && copy[0] == '1' && copy[N] == 0x5A, "dm_get_many bytes");
    size_t len = 0;
    REL_CHECK_EQ(dm_get_copy(m, B("big"), 3, copy, N, &len), DM_OK, "dm_get_copy into the caller's buffer");
    REL_CHECK(len == N && copy[0] == 0x5A && copy[N - 1] == 0x5A, "dm_get_copy bytes");
    /* The cursor cannot copy the shard holding the big value... */
    const uint8_t *k, *v;
    size_t kl, vl;
    dm_status st;
    size_t seen = 0;
    while ((st = dm_iter_next(it, &k, &kl, &v, &vl)) == DM_OK) seen++;
    REL_CHECK_EQ(st, DM_ERR_NO_MEMORY, "dm_iter_next on a 192 MiB shard");
    /* ...until memory is back: then the same cursor retries and goes on. */
    unlimit();
    bool got_big = false;
    if (st == DM_ERR_NO_MEMORY) {
        while ((st = dm_iter_next(it, &k, &kl, &v, &vl)) == DM_OK) {
            seen++;
            got_big |= kl == 3 && vl == N;
        }
    }
    REL_CHECK_EQ(st, DM_NOT_FOUND, "dm_iter_next after the limit is lifted");
    REL_CHECK(seen == 2 && got_big, "the retried cursor returned both entries (%zu)", seen);
    dm_iter_free(it);
    REL_CHECK_EQ(dm_len(m), 2, "dm_len");
    dm_free(m);
    free(copy);
    printf("  big_reads: 192 MiB value under 96 MiB of headroom: get_alloc, iter_next -> "
           "DM_ERR_NO_MEMORY; get_copy, get_many work; the cursor resumes once memory is back\n");
    return 0;
}

static int scenario_constructors(void) {
    REL_CHECK(dm_with_capacity(SIZE_MAX) == NULL, "dm_with_capacity(SIZE_MAX)");
    REL_CHECK(dm_with_capacity_and_shards(SIZE_MAX / 2, 65536) == NULL, "dm_with_capacity_and_shards(huge, 65536)");
    dm_options o = dm_options_default();
    dm_map *out = (dm_map *)(uintptr_t)1;
    o.capacity = SIZE_MAX;
    REL_CHECK_EQ(dm_new_with_options(&o, &out), DM_ERR_NO_MEMORY, "dm_new_with_options(capacity SIZE_MAX)");
    REL_CHECK(out == (dm_map *)(uintptr_t)1, "*out written on failure");
    /* Real allocations that do not fit: 50 M entries under 64 MiB of headroom. */
    limit_headroom(64 * MiB);
    REL_CHECK(dm_with_capacity(50000000) == NULL, "dm_with_capacity(50M) under 64 MiB headroom");
    REL_CHECK(dm_with_capacity_and_shards(50000000, 64) == NULL, "dm_with_capacity_and_shards(50M, 64)");
    o.capacity = 50000000;
    o.shards = 4;
    REL_CHECK_EQ(dm_new_with_options(&o, &out), DM_ERR_NO_MEMORY, "dm_new_with_options(capacity 50M)");
    dm_map *small = dm_with_capacity(1000);
    REL_CHECK(small != NULL, "a small map still fits");
    dm_free(small);
    unlimit();
    printf("  constructors: impossible and 50M-entry capacities -> NULL / DM_ERR_NO_MEMORY\n");
    return 0;
}

static int scenario_table_growth(void) {
    dm_map *m = dm_with_shards(2);
    limit_headroom(64 * MiB);
    char k[32];
    long ok = 0;
    dm_status st = DM_OK;
    for (long i = 0; i < 50000000; i++) {
        int n = snprintf(k, sizeof k, "key-%ld", i);
        st = dm_insert(m, B(k), (size_t)n, B("v"), 1);
        if (st != DM_OK) break;
        ok++;
    }
    REL_CHECK_EQ(st, DM_ERR_NO_MEMORY, "the insert that ran out of memory");
    REL_CHECK_EQ(dm_len(m), ok, "dm_len = the inserts that succeeded");
    int n = snprintf(k, sizeof k, "key-%ld", ok);
    REL_CHECK(!dm_contains_key(m, B(k), (size_t)n), "the failed key is absent");
    REL_CHECK(dm_contains_key(m, B("key-0"), 5), "earlier keys are intact");
    /* A batch that needs growth fails cleanly as well. */
    enum { NB = 100000 };
    static char kb[NB][24];
    static dm_slice ks[NB], vs[NB];
    for (int i = 0; i < NB; i++) {
        int l = snprintf(kb[i], sizeof kb[i], "batch-%d", i);
        ks[i] = (dm_slice){B(kb[i]), (size_t)l};
        vs[i] = (dm_slice){B("v"), 1};
    }
    dm_status bst = dm_extend(m, ks, vs, NB);
    size_t after = dm_len(m);
    size_t walked = 0;
    unlimit();
    dm_iter *it = dm_iter_new(m);
    const uint8_t *kk, *vv;
    size_t kl, vl;
    while (dm_iter_next(it, &kk, &kl, &vv, &vl) == DM_OK) walked++;
    dm_iter_free(it);
    REL_CHECK(bst == DM_ERR_NO_MEMORY || bst == DM_OK, "dm_extend under the limit: %s", rel_status(bst));
    REL_CHECK(after == walked && after >= (size_t)ok, "consistent after dm_extend: len %zu, walk %zu", after, walked);
    /* Memory back: the map grows again. */
    REL_CHECK_EQ(dm_insert(m, B(k), (size_t)n, B("v"), 1), DM_OK, "insert after the limit is lifted");
    dm_free(m);
    printf("  table_growth: %ld inserts fitted in 64 MiB of headroom, then DM_ERR_NO_MEMORY; dm_extend -> %s; "
           "map consistent\n",
           ok, rel_status(bst));
    return 0;
}

/* For the record: hashbrown's shrink_to has no fallible variant. */
static int scenario_shrink(void) {
    dm_map *m = dm_with_shards(2);
    char k[32];
    for (int i = 0; i < 2000000; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        dm_insert(m, B(k), (size_t)n, B("v"), 1);
    }
    for (int i = 0; i < 2000000; i += 2) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        dm_remove(m, B(k), (size_t)n, NULL, 0, NULL);
    }
    limit_headroom(0);
    dm_status st = dm_shrink_to_fit(m);
    _exit(st == DM_OK ? 10 : 11);
}

typedef int (*scenario_fn)(void);

static int run(const char *name, scenario_fn fn, bool informational) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(120);
        int r = fn();
        fflush(stdout);
        _exit(r != 0 || rel_failed() != 0 ? 1 : 0);
    }
    int status = 0;
    double deadline = rel_now() + 150;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (rel_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            printf("alloc failure: %s: TIMED OUT\n", name);
            return informational ? 0 : 1;
        }
        usleep(20000);
    }
    if (informational) {
        if (WIFSIGNALED(status))
            printf("  (known) %s: the process died of %s -- dm_shrink_to_fit cannot report allocation failure\n", name,
                   strsignal(WTERMSIG(status)));
        else
            printf("  (known) %s: returned %s this time (it aborts when the smaller table cannot be allocated)\n",
                   name, WEXITSTATUS(status) == 10 ? "DM_OK" : "an error");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("alloc failure: %s: FAILED, killed by %s (an allocation failure aborted)\n", name,
               strsignal(WTERMSIG(status)));
        return 1;
    }
    if (WEXITSTATUS(status) != 0) {
        printf("alloc failure: %s: FAILED (exit %d)\n", name, WEXITSTATUS(status));
        return 1;
    }
    return 0;
}

int main(void) {
    rel_watchdog("alloc_failure", 600);
    printf("alloc failure: scenarios in children under setrlimit(RLIMIT_AS) (parent VmSize %zu MiB)\n",
           vm_size() / MiB);
    int failed = 0, total = 0;
    struct {
        const char *name;
        scenario_fn fn;
    } s[] = {{"huge_value", scenario_huge_value},
             {"big_reads", scenario_big_reads},
             {"constructors", scenario_constructors},
             {"table_growth", scenario_table_growth}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++, total++) failed += run(s[i].name, s[i].fn, false);
    run("shrink_to_fit with no headroom", scenario_shrink, true);
    printf("alloc failure: %d scenarios, %d passed\n", total, total - failed);
    printf("%d passed, %d failed\n", total - failed, failed);
    return failed ? 1 : 0;
}
