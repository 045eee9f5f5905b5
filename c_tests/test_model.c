/*
 * test_model.c: model-based test. Thousands of random operations are applied
 * both to a map and to a trivial reference model (an array indexed by a small
 * fixed key set); every status, length and byte that comes back is compared.
 * Periodically the whole map is compared with the model through dm_for_each,
 * dm_iter and dm_stats_get.
 *
 * The PRNG seed is printed; DM_TEST_SEED=<n> replays a run and
 * DM_TEST_OPS=<n> changes the number of operations per map.
 */
#include "check.h"

enum { NK = 40, MAXV = 24 };

/* ------------------------------------------------------------ PRNG */

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static size_t rnd_below(size_t n) { return (size_t)(rnd() % n); }

/* ------------------------------------------------------------ keys */

static uint8_t key_bytes[NK][8];
static size_t key_len[NK];

/* Key 0 is the empty key; the others are "K<i>", some with an embedded NUL
 * and one more byte, so prefixes and binary keys are exercised. */
static void make_keys(void) {
    for (int i = 0; i < NK; i++) {
        if (i == 0) {
            key_len[i] = 0;
            continue;
        }
        int n = snprintf((char *)key_bytes[i], sizeof key_bytes[i], "K%d", i);
        if (i % 3 == 0) {
            key_bytes[i][n] = 0;
            key_bytes[i][n + 1] = (uint8_t)(0x80 + i);
            n += 2;
        }
        key_len[i] = (size_t)n;
    }
}

/* Key 0 is passed as (NULL, 0). */
static const uint8_t *kp(int i) { return key_len[i] == 0 ? NULL : key_bytes[i]; }

static int key_index(const uint8_t *k, size_t kl) {
    for (int i = 0; i < NK; i++)
        if (key_len[i] == kl && (kl == 0 || memcmp(key_bytes[i], k, kl) == 0)) return i;
    return -1;
}

/* ------------------------------------------------------------ model */

struct slot {
    bool present;
    size_t len;
    uint8_t v[MAXV];
};
static struct slot model[NK];

static size_t model_len(void) {
    size_t n = 0;
    for (int i = 0; i < NK; i++) n += model[i].present;
    return n;
}

static void model_set(int i, const uint8_t *v, size_t len) {
    model[i].present = true;
    model[i].len = len;
    if (len > 0) memcpy(model[i].v, v, len);
}

/* A random value: 0..MAXV bytes, often exactly 8 (a counter). */
static size_t rnd_value(uint8_t *v) {
    size_t len = rnd_below(4) == 0 ? 8 : rnd_below(MAXV + 1);
    for (size_t j = 0; j < len; j++) v[j] = (uint8_t)rnd();
    return len;
}

/* A buffer argument with a random capacity; NULL when the capacity is 0. */
static uint8_t *rnd_buf(uint8_t *buf, size_t *cap) {
    *cap = rnd_below(MAXV + 2);
    return *cap == 0 ? NULL : buf;
}

static bool same(const struct slot *s, const uint8_t *v, size_t len) {
    return s->present && s->len == len && (len == 0 || memcmp(s->v, v, len) == 0);
}

/* ------------------------------------------------------------ callbacks */

struct read_ctx {
    int calls;
    size_t len;
    uint8_t v[MAXV];
};
static void read_cb(const uint8_t *v, size_t n, void *ctx) {
    struct read_ctx *r = ctx;
    r->calls++;
    r->len = n;
    if (n <= MAXV && n > 0) memcpy(r->v, v, n);
}

struct pred_ctx {
    int idx;
    bool answer;
    int calls;
    bool args_ok;
};
static bool pred_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct pred_ctx *p = ctx;
    p->calls++;
    p->args_ok = key_index(k, kn) == p->idx && same(&model[p->idx], v, vn);
    return p->answer;
}

struct entry_ctx {
    int idx;
    int action;
    uint8_t v[MAXV], v2[MAXV];
    size_t len, len2;
    bool start_ok;
};
/* Applies `action` to the entry and mirrors it into the model's slot. */
static void entry_cb(dm_entry *e, void *ctx) {
    struct entry_ctx *c = ctx;
    struct slot *s = &model[c->idx];
    size_t len = 0, kl = 0;
    const uint8_t *cur = dm_entry_value(e, &len);
    const uint8_t *k = dm_entry_key(e, &kl);
    c->start_ok = dm_entry_occupied(e) == s->present && (s->present ? same(s, cur, len) : cur == NULL) &&
                  key_index(k, kl) == c->idx;
    switch (c->action) {
    case 0: break; /* look only */
    case 1:
        if (dm_entry_set(e, c->len ? c->v : NULL, c->len) == DM_OK) model_set(c->idx, c->v, c->len);
        break;
    case 2:
        if (dm_entry_remove(e) == (s->present ? DM_OK : DM_NOT_FOUND)) s->present = false;
        else c->start_ok = false;
        break;
    case 3: /* set, then remove: vacant at the end */
        dm_entry_set(e, c->v, c->len);
        dm_entry_remove(e);
        s->present = false;
        break;
    case 4: /* remove, set, set again: the last value wins */
        dm_entry_remove(e);
        dm_entry_set(e, c->v, c->len);
        dm_entry_set(e, c->v2, c->len2);
        model_set(c->idx, c->v2, c->len2);
        break;
    case 5: { /* flip every byte in place */
        size_t ml = 0;
        uint8_t *w = dm_entry_value_mut(e, &ml);
        if (w != NULL)
            for (size_t j = 0; j < ml; j++) w[j] ^= 0xff;
        if (s->present)
            for (size_t j = 0; j < s->len; j++) s->v[j] ^= 0xff;
        if ((w != NULL) != s->present || (w != NULL && ml != s->len)) c->start_ok = false;
        break;
    }
    default: break;
    }
}

/* retain: keep a key unless (sum of its bytes + round) % 3 == 0. */
static bool retain_keep(const uint8_t *k, size_t kl, unsigned round) {
    unsigned sum = round;
    for (size_t j = 0; j < kl; j++) sum += k[j];
    return sum % 3 != 0;
}
struct retain_ctx {
    unsigned round;
    int bad;
};
static bool retain_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct retain_ctx *r = ctx;
    int i = key_index(k, kn);
    if (i < 0 || !same(&model[i], v, vn)) r->bad++;
    return retain_keep(k, kn, r->round);
}

struct visit_ctx {
    int seen[NK];
    int bad;
};
static bool visit_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct visit_ctx *c = ctx;
    int i = key_index(k, kn);
    if (i < 0 || !same(&model[i], v, vn)) {
        c->bad++;
    } else {
        c->seen[i]++;
    }
    return true;
}

/* The whole map equals the model: for_each, iter and stats. */
static void compare_all(dm_map *m) {
    struct visit_ctx c;
    memset(&c, 0, sizeof c);
    CHECK_ST(dm_for_each(m, visit_cb, &c), DM_OK);
    int ok = 0;
    for (int i = 0; i < NK; i++) ok += c.seen[i] == (model[i].present ? 1 : 0);
    CHECK_EQ(c.bad, 0);
    CHECK_EQ(ok, NK);

    memset(&c, 0, sizeof c);
    dm_iter *it = dm_iter_new(m);
    CHECK(it != NULL);
    const uint8_t *k, *v;
    size_t kl, vl;
    while (it != NULL && dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) visit_cb(k, kl, v, vl, &c);
    dm_iter_free(it);
    ok = 0;
    for (int i = 0; i < NK; i++) ok += c.seen[i] == (model[i].present ? 1 : 0);
    CHECK_EQ(c.bad, 0);
    CHECK_EQ(ok, NK);

    dm_stats st;
    CHECK_ST(dm_stats_get(m, &st), DM_OK);
    size_t kb = 0, vb = 0;
    for (int i = 0; i < NK; i++)
        if (model[i].present) kb += key_len[i], vb += model[i].len;
    CHECK_EQ(st.len, model_len());
    CHECK_EQ(st.key_bytes, kb);
    CHECK_EQ(st.value_bytes, vb);
    CHECK(st.min_shard_len <= st.max_shard_len);
    CHECK_EQ(st.shards, dm_shard_count(m));
}

/* ------------------------------------------------------------ the run */

static void report_op(long op, const char *name, int idx) {
    fprintf(stderr, "    at operation %ld (%s) on key %d\n", op, name, idx);
}

#define OPCHECK(cond) \
    do { \
        if (!CHECK(cond)) report_op(op, name, i); \
    } while (0)
#define OPST(call, want) \
    do { \
        if (!CHECK_ST(call, want)) report_op(op, name, i); \
    } while (0)

static void run(dm_map *m, long ops) {
    memset(model, 0, sizeof model);
    unsigned retain_round = 0;
    for (long op = 0; op < ops; op++) {
        int i = (int)rnd_below(NK);
        uint8_t v[MAXV], buf[MAXV + 2];
        size_t vl = rnd_value(v), cap = 0, out = 4242;
        struct slot *s = &model[i];
        const char *name = "?";
        unsigned what = (unsigned)rnd_below(1000);

        if (what < 120) {
            name = "insert";
            OPST(dm_insert(m, kp(i), key_len[i], vl ? v : NULL, vl), s->present ? DM_REPLACED : DM_OK);
            model_set(i, v, vl);
        } else if (what < 230) {
            name = "get_copy";
            uint8_t *b = rnd_buf(buf, &cap);
            dm_status st = dm_get_copy(m, kp(i), key_len[i], b, cap, &out);
            if (!s->present) {
                OPST(st, DM_NOT_FOUND);
                OPCHECK(out == 4242);
            } else if (s->len <= cap) {
                OPST(st, DM_OK);
                OPCHECK(same(s, b, out));
            } else {
                OPST(st, DM_BUFFER_TOO_SMALL);
                OPCHECK(out == s->len);
            }
        } else if (what < 300) {
            name = "remove";
            if (rnd_below(2) == 0) {
                OPST(dm_remove(m, kp(i), key_len[i], NULL, 0, NULL), s->present ? DM_OK : DM_NOT_FOUND);
                s->present = false;
            } else {
                uint8_t *b = rnd_buf(buf, &cap);
                dm_status st = dm_remove(m, kp(i), key_len[i], b, cap, &out);
                if (!s->present) {
                    OPST(st, DM_NOT_FOUND);
                } else if (s->len <= cap) {
                    OPST(st, DM_OK);
                    OPCHECK(same(s, b, out));
                    s->present = false;
                } else {
                    OPST(st, DM_BUFFER_TOO_SMALL);
                    OPCHECK(out == s->len);
                }
            }
        } else if (what < 360) {
            name = "try_insert";
            OPST(dm_try_insert(m, kp(i), key_len[i], v, vl), s->present ? DM_EXISTS : DM_OK);
            if (!s->present) model_set(i, v, vl);
        } else if (what < 420) {
            name = "get_or_insert";
            uint8_t *b = rnd_buf(buf, &cap);
            dm_status st = dm_get_or_insert(m, kp(i), key_len[i], v, vl, b, cap, &out);
            if (!s->present) {
                OPST(st, DM_OK);
                OPCHECK(out == vl);
                model_set(i, v, vl);
            } else if (s->len <= cap) {
                OPST(st, DM_EXISTS);
                OPCHECK(same(s, b, out));
            } else {
                OPST(st, DM_BUFFER_TOO_SMALL);
                OPCHECK(out == s->len);
            }
        } else if (what < 480) {
            name = "compare_and_swap";
            uint8_t ex[MAXV];
            size_t exl;
            if (s->present && rnd_below(2) == 0) {
                exl = s->len;
                memcpy(ex, s->v, exl);
            } else {
                exl = rnd_value(ex);
            }
            dm_status want = !s->present ? DM_NOT_FOUND : same(s, ex, exl) ? DM_OK : DM_MISMATCH;
            OPST(dm_compare_and_swap(m, kp(i), key_len[i], ex, exl, v, vl), want);
            if (want == DM_OK) model_set(i, v, vl);
        } else if (what < 520) {
            name = "compare_and_remove";
            uint8_t ex[MAXV];
            size_t exl;
            if (s->present && rnd_below(2) == 0) {
                exl = s->len;
                memcpy(ex, s->v, exl);
            } else {
                exl = rnd_value(ex);
            }
            dm_status want = !s->present ? DM_NOT_FOUND : same(s, ex, exl) ? DM_OK : DM_MISMATCH;
            OPST(dm_compare_and_remove(m, kp(i), key_len[i], ex, exl), want);
            if (want == DM_OK) s->present = false;
        } else if (what < 580) {
            name = "swap";
            uint8_t *b = rnd_buf(buf, &cap);
            dm_status st = dm_swap(m, kp(i), key_len[i], v, vl, b, cap, &out);
            if (!s->present) {
                OPST(st, DM_OK);
                model_set(i, v, vl);
            } else if (s->len <= cap) {
                OPST(st, DM_REPLACED);
                OPCHECK(same(s, b, out));
                model_set(i, v, vl);
            } else {
                OPST(st, DM_BUFFER_TOO_SMALL);
                OPCHECK(out == s->len);
            }
        } else if (what < 660) {
            name = "add_i64";
            int64_t delta = (int64_t)rnd(), r = 4242;
            if (rnd_below(2)) delta %= 1000;
            dm_status st = dm_add_i64(m, kp(i), key_len[i], delta, &r);
            if (s->present && s->len != 8) {
                OPST(st, DM_ERR_INVALID);
                OPCHECK(r == 4242);
            } else {
                uint64_t old = 0;
                if (s->present)
                    for (int j = 7; j >= 0; j--) old = (old << 8) | s->v[j];
                uint64_t sum = old + (uint64_t)delta; /* wrapping */
                OPST(st, DM_OK);
                OPCHECK((uint64_t)r == sum);
                uint8_t le[8];
                for (int j = 0; j < 8; j++) le[j] = (uint8_t)(sum >> (8 * j));
                model_set(i, le, 8);
            }
        } else if (what < 700) {
            name = "contains_key";
            OPCHECK(dm_contains_key(m, kp(i), key_len[i]) == s->present);
        } else if (what < 730) {
            name = "get_with";
            struct read_ctx rc = {0};
            OPST(dm_get_with(m, kp(i), key_len[i], read_cb, &rc), s->present ? DM_OK : DM_NOT_FOUND);
            OPCHECK(rc.calls == (s->present ? 1 : 0));
            if (s->present) OPCHECK(same(s, rc.v, rc.len));
        } else if (what < 760) {
            name = "get_alloc";
            uint8_t *p = buf;
            dm_status st = dm_get_alloc(m, kp(i), key_len[i], &p, &out);
            OPST(st, s->present ? DM_OK : DM_NOT_FOUND);
            if (st == DM_OK) {
                OPCHECK(same(s, p, out));
                OPCHECK((p == NULL) == (out == 0));
                dm_bytes_free(p, out);
            } else {
                OPCHECK(p == buf && out == 4242);
            }
        } else if (what < 840) {
            name = "entry_update";
            struct entry_ctx ec = {.idx = i, .action = (int)rnd_below(6)};
            ec.len = rnd_value(ec.v);
            ec.len2 = rnd_value(ec.v2);
            OPST(dm_entry_update(m, kp(i), key_len[i], entry_cb, &ec), DM_OK);
            OPCHECK(ec.start_ok);
        } else if (what < 870) {
            name = "remove_if";
            struct pred_ctx pc = {.idx = i, .answer = rnd_below(2) == 0};
            dm_status want = !s->present ? DM_NOT_FOUND : pc.answer ? DM_OK : DM_MISMATCH;
            OPST(dm_remove_if(m, kp(i), key_len[i], pred_cb, &pc), want);
            OPCHECK(pc.calls == (s->present ? 1 : 0));
            if (s->present) OPCHECK(pc.args_ok);
            if (want == DM_OK) s->present = false;
        } else if (what < 900) {
            name = "extend";
            enum { B = 6 };
            dm_slice ks[B], vs[B];
            uint8_t vals[B][MAXV];
            int idx[B];
            size_t n = 1 + rnd_below(B);
            for (size_t j = 0; j < n; j++) {
                idx[j] = (int)rnd_below(NK);
                ks[j] = (dm_slice){kp(idx[j]), key_len[idx[j]]};
                size_t l = rnd_value(vals[j]);
                vs[j] = (dm_slice){l ? vals[j] : NULL, l};
            }
            OPST(dm_extend(m, ks, vs, n), DM_OK);
            for (size_t j = 0; j < n; j++) model_set(idx[j], vals[j], vs[j].len); /* in order: last wins */
        } else if (what < 930) {
            name = "get_many";
            enum { B = 6 };
            dm_slice ks[B];
            int idx[B];
            size_t lens[B], used = 4242, n = 1 + rnd_below(B), need = 0;
            for (size_t j = 0; j < n; j++) {
                idx[j] = (int)rnd_below(NK);
                ks[j] = (dm_slice){kp(idx[j]), key_len[idx[j]]};
                if (model[idx[j]].present) need += model[idx[j]].len;
            }
            uint8_t big[B * MAXV];
            size_t bcap = rnd_below(2) ? sizeof big : rnd_below(need + 1);
            dm_status st = dm_get_many(m, ks, n, bcap ? big : NULL, bcap, lens, &used);
            OPST(st, need <= bcap ? DM_OK : DM_BUFFER_TOO_SMALL);
            OPCHECK(used == need);
            size_t at = 0, good = 0;
            for (size_t j = 0; j < n; j++) {
                struct slot *t = &model[idx[j]];
                if (!t->present) {
                    good += lens[j] == SIZE_MAX;
                } else {
                    good += lens[j] == t->len && (st != DM_OK || same(t, big + at, lens[j]));
                    at += t->len;
                }
            }
            OPCHECK(good == n);
        } else if (what < 950) {
            name = "remove_many";
            enum { B = 5 };
            dm_slice ks[B];
            size_t n = rnd_below(B + 1), removed = 4242, want = 0;
            for (size_t j = 0; j < n; j++) {
                int x = (int)rnd_below(NK);
                ks[j] = (dm_slice){kp(x), key_len[x]};
                if (model[x].present) want++;
                model[x].present = false; /* a duplicate counts once */
            }
            OPST(dm_remove_many(m, n ? ks : NULL, n, &removed), DM_OK);
            OPCHECK(removed == want);
        } else if (what < 990) {
            name = "len";
            OPCHECK(dm_len(m) == model_len());
            OPCHECK(dm_is_empty(m) == (model_len() == 0));
        } else if (what < 996) {
            name = "retain";
            struct retain_ctx rc = {.round = ++retain_round};
            OPST(dm_retain_cb(m, retain_cb, &rc), DM_OK);
            OPCHECK(rc.bad == 0);
            for (int j = 0; j < NK; j++)
                if (!retain_keep(key_bytes[j], key_len[j], rc.round)) model[j].present = false;
        } else if (what < 998) {
            name = "shrink_to_fit";
            OPST(dm_shrink_to_fit(m), DM_OK);
            OPCHECK(dm_capacity(m) >= model_len());
        } else {
            name = "clear";
            OPST(dm_clear(m), DM_OK);
            memset(model, 0, sizeof model);
        }
        if (op % 250 == 249) compare_all(m);
    }
    compare_all(m);
}

int main(void) {
    uint64_t seed = (uint64_t)check_env_long("DM_TEST_SEED", 20240611);
    long ops = check_env_long("DM_TEST_OPS", 5000);
    printf("test_model: seed %" PRIu64 ", %ld operations per map (DM_TEST_SEED / DM_TEST_OPS to change)\n", seed, ops);
    make_keys();

    /* SipHash with 4 shards (seeded), the fast hasher with 2, and the defaults. */
    rng_state = seed;
    dm_options o = dm_options_default();
    o.shards = 4;
    o.seed = 7;
    dm_map *m = NULL;
    CHECK_ST(dm_new_with_options(&o, &m), DM_OK);
    if (m != NULL) run(m, ops);
    dm_free(m);

    o = dm_options_default();
    o.shards = 2;
    o.hasher = DM_HASHER_FAST;
    m = NULL;
    CHECK_ST(dm_new_with_options(&o, &m), DM_OK);
    if (m != NULL) run(m, ops);
    dm_free(m);

    m = MUST(dm_new());
    run(m, ops);
    dm_free(m);
    return check_finish();
}
