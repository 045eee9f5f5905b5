// The maps under test, behind one compile-time interface (no virtual calls
// in the measured loops):
//
//   Map(size_t capacity_hint)          capacity_hint 0 = start empty
//   bool get(k, kl, buf, cap)          copy the value out; true if found
//   bool insert(k, kl, v, vl)          insert or replace; true if the key was new
//   bool remove(k, kl)                 true if it was there
//   bool update(k, kl)                 add 1 to the value's first 8 bytes in
//                                      place (little-endian); true if found
//   static void thread_enter/thread_exit()   per worker thread (liburcu)
//   size_t size()
//
// Every map copies keys and values in, and every read copies the value out to
// the caller's buffer, as dm_get_copy does. The C++ peers hash with
// std::hash<std::string_view> (libstdc++'s murmur-based _Hash_bytes: fast,
// unkeyed); libdashmap and native dashmap use SipHash-1-3 (the *_sip rows)
// or foldhash (the *_fast rows).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dashmap.h"
#include "nd.h"

#include <oneapi/tbb/concurrent_hash_map.h>
#include <libcuckoo/cuckoohash_map.hh>

#define _LGPL_SOURCE 1
#include <urcu.h>
#include <urcu/rculfhash.h>

#include <glib.h>

namespace peers {

inline void bump(uint8_t *v, size_t len) {
    if (len >= 8) {
        uint64_t x;
        std::memcpy(&x, v, 8);
        x += 1;
        std::memcpy(v, &x, 8);
    } else if (len > 0) {
        v[0]++;
    }
}

inline std::string_view sv(const uint8_t *p, size_t n) { return std::string_view(reinterpret_cast<const char *>(p), n); }

struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct SvEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

// Shard count for libdashmap and native dashmap (`--shards`; 0 = each map's
// own default), so both can be compared at the same shard count.
inline size_t g_shards = 0;

// ----------------------------------------------------------- libdashmap ----

template <int Hasher>
struct Dm {
    dm_map *m = nullptr;
    explicit Dm(size_t cap) {
        dm_options o = dm_options_default();
        o.capacity = cap;
        o.hasher = Hasher;
        o.shards = g_shards;
        if (dm_new_with_options(&o, &m) != DM_OK) std::abort();
    }
    ~Dm() { dm_free(m); }
    Dm(const Dm &) = delete;
    Dm &operator=(const Dm &) = delete;
    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        size_t len;
        return dm_get_copy(m, k, kl, buf, cap, &len) == DM_OK;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        return dm_insert(m, k, kl, v, vl) == DM_OK;
    }
    bool remove(const uint8_t *k, size_t kl) { return dm_remove(m, k, kl, nullptr, 0, nullptr) == DM_OK; }
    static void bump_cb(dm_entry *e, void *ctx) {
        size_t len;
        uint8_t *v = dm_entry_value_mut(e, &len);
        if (v) {
            bump(v, len);
            *static_cast<bool *>(ctx) = true;
        }
    }
    bool update(const uint8_t *k, size_t kl) {
        bool found = false;
        dm_entry_update(m, k, kl, bump_cb, &found);
        return found;
    }
    size_t size() const { return dm_len(m); }
    static void thread_enter() {}
    static void thread_exit() {}
};

// ------------------------------------------------------- native dashmap ----

template <int Hasher>
struct Native {
    nd_map *m;
    explicit Native(size_t cap) : m(nd_new_sharded(Hasher, cap, g_shards)) {}
    ~Native() { nd_free(m); }
    Native(const Native &) = delete;
    Native &operator=(const Native &) = delete;
    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        size_t len;
        return nd_get_copy(m, k, kl, buf, cap, &len) == 0;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) { return nd_insert(m, k, kl, v, vl) == 0; }
    bool remove(const uint8_t *k, size_t kl) { return nd_remove(m, k, kl) == 0; }
    bool update(const uint8_t *k, size_t kl) { return nd_update(m, k, kl) == 0; }
    size_t size() const { return nd_len(m); }
    static void thread_enter() {}
    static void thread_exit() {}
};

// ---------------------------------- std::shared_mutex + unordered_map ----

struct StdShared {
    mutable std::shared_mutex lock;
    std::unordered_map<std::string, std::string> map;
    explicit StdShared(size_t cap) {
        if (cap) map.reserve(cap);
    }
    // C++17 unordered_map has no heterogeneous lookup: reuse a per-thread
    // string so lookups do not allocate.
    static std::string &scratch(const uint8_t *k, size_t kl) {
        thread_local std::string s;
        s.assign(reinterpret_cast<const char *>(k), kl);
        return s;
    }
    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        const std::string &key = scratch(k, kl);
        std::shared_lock<std::shared_mutex> g(lock);
        auto it = map.find(key);
        if (it == map.end()) return false;
        size_t n = it->second.size();
        if (n <= cap) std::memcpy(buf, it->second.data(), n);
        return true;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        std::string key(reinterpret_cast<const char *>(k), kl), val(reinterpret_cast<const char *>(v), vl);
        std::unique_lock<std::shared_mutex> g(lock);
        return map.insert_or_assign(std::move(key), std::move(val)).second;
    }
    bool remove(const uint8_t *k, size_t kl) {
        const std::string &key = scratch(k, kl);
        std::unique_lock<std::shared_mutex> g(lock);
        return map.erase(key) > 0;
    }
    bool update(const uint8_t *k, size_t kl) {
        const std::string &key = scratch(k, kl);
        std::unique_lock<std::shared_mutex> g(lock);
        auto it = map.find(key);
        if (it == map.end()) return false;
        bump(reinterpret_cast<uint8_t *>(it->second.data()), it->second.size());
        return true;
    }
    size_t size() const { return map.size(); }
    static void thread_enter() {}
    static void thread_exit() {}
};

// --------------------------------------------- oneTBB concurrent_hash_map ----

struct TbbHashCompare {
    using is_transparent = void;
    size_t hash(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    bool equal(std::string_view a, std::string_view b) const { return a == b; }
};

struct Tbb {
    using M = tbb::concurrent_hash_map<std::string, std::string, TbbHashCompare>;
    M map;
    explicit Tbb(size_t cap) : map(cap ? cap : 0) {}
    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        M::const_accessor a;
        if (!const_cast<M &>(map).find(a, sv(k, kl))) return false;
        size_t n = a->second.size();
        if (n <= cap) std::memcpy(buf, a->second.data(), n);
        return true;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        M::accessor a;
        bool fresh = map.insert(a, std::string(reinterpret_cast<const char *>(k), kl));
        a->second.assign(reinterpret_cast<const char *>(v), vl);
        return fresh;
    }
    bool remove(const uint8_t *k, size_t kl) { return map.erase(sv(k, kl)); }
    bool update(const uint8_t *k, size_t kl) {
        M::accessor a;
        if (!map.find(a, sv(k, kl))) return false;
        bump(reinterpret_cast<uint8_t *>(a->second.data()), a->second.size());
        return true;
    }
    size_t size() const { return map.size(); }
    static void thread_enter() {}
    static void thread_exit() {}
};

// ------------------------------------------------- libcuckoo cuckoohash_map ----

struct Cuckoo {
    libcuckoo::cuckoohash_map<std::string, std::string, SvHash, SvEq> map;
    // Without a capacity hint libcuckoo's constructor allocates 2^16 buckets
    // (262,144 slots, DEFAULT_SIZE): 16x RapidGrow's 2^14-key space, so it
    // would never grow there. Unsized, it starts from 64 slots instead, and
    // grows like every other map in the harness.
    static constexpr size_t kUnsizedSlots = 64;
    explicit Cuckoo(size_t cap) : map(cap ? cap : kUnsizedSlots) {}
    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        return map.find_fn(sv(k, kl), [&](const std::string &v) {
            if (v.size() <= cap) std::memcpy(buf, v.data(), v.size());
        });
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        return map.insert_or_assign(std::string(reinterpret_cast<const char *>(k), kl),
                                    std::string(reinterpret_cast<const char *>(v), vl));
    }
    bool remove(const uint8_t *k, size_t kl) { return map.erase(sv(k, kl)); }
    bool update(const uint8_t *k, size_t kl) {
        return map.update_fn(sv(k, kl), [](std::string &v) { bump(reinterpret_cast<uint8_t *>(v.data()), v.size()); });
    }
    size_t size() const { return map.size(); }
    static void thread_enter() {}
    static void thread_exit() {}
};

// ------------------------------------------------------ liburcu rculfhash ----
//
// Readers run inside rcu_read_lock; nodes (key and value in one block) are
// freed with call_rcu after removal or replacement. An in-place update is not
// safe under RCU, so update copies the node and cds_lfht_replace()s it.

#ifndef URCU_FLAGS
// The flags liburcu documents for a general-purpose table. (Without
// CDS_LFHT_ACCOUNTING, growth is triggered by any chain of 3 seen on insert,
// and a pre-sized 2^20 table grew to gigabytes of buckets here.)
#define URCU_FLAGS (CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING)
#endif

struct Urcu {
    struct Node {
        cds_lfht_node lfht;
        rcu_head rcu;
        uint32_t klen, vlen;
        uint8_t data[];
        std::string_view key() const { return sv(data, klen); }
        uint8_t *val() { return data + klen; }
    };
    cds_lfht *ht;

    explicit Urcu(size_t cap) {
        unsigned long init = 1;
        while (init < cap) init <<= 1;
        ht = cds_lfht_new(init, 1, 0, URCU_FLAGS, nullptr);
        if (!ht) std::abort();
    }
    ~Urcu() {
        // The caller's thread is registered (see main): remove every node,
        // let the grace period pass, then destroy the empty table.
        cds_lfht_iter it;
        rcu_read_lock();
        cds_lfht_first(ht, &it);
        for (cds_lfht_node *n; (n = cds_lfht_iter_get_node(&it)) != nullptr; cds_lfht_next(ht, &it)) {
            if (cds_lfht_del(ht, n) == 0) call_rcu(&caa_container_of(n, Node, lfht)->rcu, free_node);
        }
        rcu_read_unlock();
        rcu_barrier();
        cds_lfht_destroy(ht, nullptr);
    }
    Urcu(const Urcu &) = delete;
    Urcu &operator=(const Urcu &) = delete;

    static uint64_t hash(std::string_view k) { return std::hash<std::string_view>{}(k); }
    static int match(cds_lfht_node *n, const void *key) {
        return caa_container_of(n, Node, lfht)->key() == *static_cast<const std::string_view *>(key);
    }
    static void free_node(rcu_head *h) { std::free(caa_container_of(h, Node, rcu)); }
    static Node *make(std::string_view k, const uint8_t *v, size_t vl) {
        Node *n = static_cast<Node *>(std::malloc(sizeof(Node) + k.size() + vl));
        if (!n) std::abort();
        cds_lfht_node_init(&n->lfht);
        n->klen = uint32_t(k.size());
        n->vlen = uint32_t(vl);
        std::memcpy(n->data, k.data(), k.size());
        std::memcpy(n->data + k.size(), v, vl);
        return n;
    }

    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        std::string_view key = sv(k, kl);
        cds_lfht_iter it;
        rcu_read_lock();
        cds_lfht_lookup(ht, hash(key), match, &key, &it);
        cds_lfht_node *n = cds_lfht_iter_get_node(&it);
        if (n) {
            Node *node = caa_container_of(n, Node, lfht);
            if (node->vlen <= cap) std::memcpy(buf, node->val(), node->vlen);
        }
        rcu_read_unlock();
        return n != nullptr;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        std::string_view key = sv(k, kl);
        Node *n = make(key, v, vl);
        rcu_read_lock();
        cds_lfht_node *old = cds_lfht_add_replace(ht, hash(key), match, &key, &n->lfht);
        rcu_read_unlock();
        if (old) call_rcu(&caa_container_of(old, Node, lfht)->rcu, free_node);
        return old == nullptr;
    }
    bool remove(const uint8_t *k, size_t kl) {
        std::string_view key = sv(k, kl);
        cds_lfht_iter it;
        bool removed = false;
        rcu_read_lock();
        cds_lfht_lookup(ht, hash(key), match, &key, &it);
        cds_lfht_node *n = cds_lfht_iter_get_node(&it);
        if (n && cds_lfht_del(ht, n) == 0) {
            call_rcu(&caa_container_of(n, Node, lfht)->rcu, free_node);
            removed = true;
        }
        rcu_read_unlock();
        return removed;
    }
    bool update(const uint8_t *k, size_t kl) {
        std::string_view key = sv(k, kl);
        uint64_t h = hash(key);
        cds_lfht_iter it;
        bool done = false;
        rcu_read_lock();
        cds_lfht_lookup(ht, h, match, &key, &it);
        cds_lfht_node *n = cds_lfht_iter_get_node(&it);
        if (n) {
            Node *old = caa_container_of(n, Node, lfht);
            Node *copy = make(key, old->val(), old->vlen);
            bump(copy->val(), copy->vlen);
            if (cds_lfht_replace(ht, &it, h, match, &key, &copy->lfht) == 0) {
                call_rcu(&old->rcu, free_node);
                done = true;
            } else {
                std::free(copy);
            }
        }
        rcu_read_unlock();
        return done;
    }
    size_t size() const {
        long before, after;
        unsigned long count;
        rcu_read_lock();
        cds_lfht_count_nodes(ht, &before, &count, &after);
        rcu_read_unlock();
        return count;
    }
    static void thread_enter() { rcu_register_thread(); }
    static void thread_exit() { rcu_unregister_thread(); }
};

// ------------------------------------------------- GLib GHashTable + GRWLock ----

struct Glib {
    // Keys and values are length-prefixed blocks: { uint32 len; bytes }.
    struct Blob {
        uint32_t len;
        uint8_t data[];
    };
    static Blob *blob(const uint8_t *p, size_t n) {
        Blob *b = static_cast<Blob *>(g_malloc(sizeof(Blob) + n));
        b->len = uint32_t(n);
        std::memcpy(b->data, p, n);
        return b;
    }
    static guint hash(gconstpointer p) {
        const Blob *b = static_cast<const Blob *>(p);
        return guint(std::hash<std::string_view>{}(sv(b->data, b->len)));
    }
    static gboolean equal(gconstpointer a, gconstpointer b) {
        const Blob *x = static_cast<const Blob *>(a), *y = static_cast<const Blob *>(b);
        return x->len == y->len && std::memcmp(x->data, y->data, x->len) == 0;
    }
    // A stack-free lookup key: a per-thread Blob big enough for any key.
    static const Blob *probe(const uint8_t *k, size_t kl) {
        thread_local std::unique_ptr<uint8_t[]> space;
        thread_local size_t room = 0;
        if (room < kl) {
            space.reset(new uint8_t[sizeof(Blob) + kl]);
            room = kl;
        }
        Blob *b = reinterpret_cast<Blob *>(space.get());
        b->len = uint32_t(kl);
        std::memcpy(b->data, k, kl);
        return b;
    }

    mutable GRWLock lock;
    GHashTable *ht;
    explicit Glib(size_t) {
        g_rw_lock_init(&lock);
        ht = g_hash_table_new_full(hash, equal, g_free, g_free);
    }
    ~Glib() {
        g_hash_table_destroy(ht);
        g_rw_lock_clear(&lock);
    }
    Glib(const Glib &) = delete;
    Glib &operator=(const Glib &) = delete;

    bool get(const uint8_t *k, size_t kl, uint8_t *buf, size_t cap) const {
        const Blob *key = probe(k, kl);
        g_rw_lock_reader_lock(&lock);
        const Blob *v = static_cast<const Blob *>(g_hash_table_lookup(ht, key));
        if (v && v->len <= cap) std::memcpy(buf, v->data, v->len);
        g_rw_lock_reader_unlock(&lock);
        return v != nullptr;
    }
    bool insert(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
        Blob *key = blob(k, kl), *val = blob(v, vl);
        g_rw_lock_writer_lock(&lock);
        gboolean fresh = g_hash_table_insert(ht, key, val);
        g_rw_lock_writer_unlock(&lock);
        return fresh;
    }
    bool remove(const uint8_t *k, size_t kl) {
        const Blob *key = probe(k, kl);
        g_rw_lock_writer_lock(&lock);
        gboolean removed = g_hash_table_remove(ht, key);
        g_rw_lock_writer_unlock(&lock);
        return removed;
    }
    bool update(const uint8_t *k, size_t kl) {
        const Blob *key = probe(k, kl);
        g_rw_lock_writer_lock(&lock);
        Blob *v = static_cast<Blob *>(g_hash_table_lookup(ht, key));
        if (v) bump(v->data, v->len);
        g_rw_lock_writer_unlock(&lock);
        return v != nullptr;
    }
    size_t size() const { return g_hash_table_size(ht); }
    static void thread_enter() {}
    static void thread_exit() {}
};

}  // namespace peers
