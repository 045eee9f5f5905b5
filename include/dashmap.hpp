/*
 * dashmap.hpp: header-only C++17 wrapper for libdashmap (see dashmap.h).
 *
 * Link with the C library as usual (pkg-config dashmap, or CMake
 * find_package(dashmap) and dashmap::dashmap / dashmap::dashmap_static).
 *
 *     dashmap::Map m;
 *     m.insert("k", "v");
 *     if (auto v = m.get("k")) std::cout << *v << "\n";
 *     m.update("hits", [](dashmap::Entry &e) { e.set(e.occupied() ? "more" : "one"); });
 *     for (auto &[k, v] : m) std::cout << k << "=" << v << "\n";
 *
 * Model
 *   Keys and values are byte strings (std::string_view in, std::string out;
 *   embedded NUL bytes are fine). A dashmap::Map is a reference-counted handle:
 *   copying it shares the same map (dm_ref), moving it transfers the handle,
 *   and the map is freed with the last handle. Every operation is thread-safe,
 *   exactly as the C function it calls; one Map object may be used by many
 *   threads at once, but assigning to or moving from a Map object while other
 *   threads use that same object is a data race (give each thread a copy).
 *
 * Time-to-live
 *   insert_ttl / try_insert_ttl / add_ttl / expire / touch take a
 *   std::chrono::milliseconds (any lossless duration converts; 0 = never,
 *   negative = Error(DM_ERR_INVALID)). Expired entries read as absent at
 *   once; size() counts them until purge_expired() or a write removes them.
 *
 * Errors
 *   Every negative dm_status becomes a dashmap::Error (a std::runtime_error
 *   whose status() is the code and whose what() comes from dm_status_str),
 *   DM_ERR_FULL (a bounded map, Options::max_entries) included.
 *   Calling the map from inside one of its own callbacks (update, for_each,
 *   retain, remove_if) throws Error with DM_ERR_REENTRANT. Using a moved-from
 *   Map throws Error with DM_ERR_NULL.
 *
 * Callbacks and exceptions
 *   Lambdas passed to update/for_each/retain/remove_if run while a shard lock
 *   is held: keep them short. They may throw: the exception is caught in the
 *   wrapper's C trampoline (it never crosses the C library), the C side is
 *   told to stop (for_each), to keep the entry (retain, remove_if) or that
 *   nothing changed (update: the entry stays exactly as it was, because
 *   Entry::set/remove are only staged and applied after the lambda returns
 *   normally), and the exception is rethrown once the C call has returned
 *   and every lock is released.
 */

#ifndef LIBDASHMAP_HPP
#define LIBDASHMAP_HPP

#if !defined(__cplusplus) || (__cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L))
#error "dashmap.hpp needs C++17 or later; from C, include dashmap.h"
#endif

#include "dashmap.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

/** The C++ interface of libdashmap. */
namespace dashmap {

/** The library version as "MAJOR.MINOR.PATCH" (dm_version()). */
inline std::string_view version() noexcept { return dm_version(); }

/**
 * Thrown when a libdashmap call fails: carries the negative dm_status
 * (DM_ERR_NULL, DM_ERR_INVALID, DM_ERR_NO_MEMORY, DM_ERR_REENTRANT,
 * DM_ERR_PANIC); what() is "<C function>: <dm_status_str(status)>".
 */
class Error : public std::runtime_error {
public:
    /** An error for `status`; what() is dm_status_str(status). */
    explicit Error(dm_status status) : std::runtime_error(dm_status_str(status)), status_(status) {}

    /** An error for `status` reported by the C function `where`. */
    Error(dm_status status, const char *where)
        : std::runtime_error(std::string(where) + ": " + dm_status_str(status)), status_(status) {}

    /** The dm_status code of the failure (one of the DM_ERR_* values). */
    dm_status status() const noexcept { return status_; }

private:
    dm_status status_;
};

/** Which hash function a map uses (dm_hasher). */
enum class Hasher : std::int32_t {
    /** SipHash-1-3 with secret random keys: resistant to HashDoS (the default). */
    SipHash = DM_HASHER_SIPHASH,
    /** foldhash: faster on short keys, for trusted keys only. */
    Fast = DM_HASHER_FAST,
};

/** How to build a map; mirrors dm_options (see dm_new_with_options). */
struct Options {
    /** Entries to pre-allocate room for; 0 = start empty. */
    std::size_t capacity = 0;
    /** Shards: a power of two in [2, DM_MAX_SHARDS], or 0 for the default. */
    std::size_t shards = 0;
    /** The hash function. */
    Hasher hasher = Hasher::SipHash;
    /** 0 = random keys per map; non-zero = reproducible hashing (predictable). */
    std::uint64_t seed = 0;
    /** 0 = unbounded; otherwise a new key beyond this many entries throws Error(DM_ERR_FULL). */
    std::size_t max_entries = 0;
    /** false = TTLs follow the monotonic clock; true = a clock only Map::clock_set moves (starts at 0). */
    bool manual_clock = false;

    /** These options as the C struct. */
    dm_options to_c() const noexcept {
        dm_options o = dm_options_default();
        o.capacity = capacity;
        o.shards = shards;
        o.hasher = static_cast<dm_hasher>(hasher);
        o.seed = seed;
        o.max_entries = max_entries;
        o.manual_clock = manual_clock;
        return o;
    }
};

/** A snapshot of a map's size and layout; mirrors dm_stats (see dm_stats_get). */
struct Stats {
    /** Entries. */
    std::size_t len = 0;
    /** Entries the tables can hold without growing. */
    std::size_t capacity = 0;
    /** Shards. */
    std::size_t shards = 0;
    /** Entries in the emptiest shard. */
    std::size_t min_shard_len = 0;
    /** Entries in the fullest shard. */
    std::size_t max_shard_len = 0;
    /** Total bytes of all keys stored. */
    std::size_t key_bytes = 0;
    /** Total bytes of all values stored. */
    std::size_t value_bytes = 0;
};

class Entry;
class Map;

/** Implementation details; not part of the API. */
namespace detail {

inline const std::uint8_t *bytes(std::string_view s) noexcept {
    return reinterpret_cast<const std::uint8_t *>(s.data());
}

inline std::uint8_t *bytes(std::string &s) noexcept { return reinterpret_cast<std::uint8_t *>(s.data()); }

inline std::string_view view(const std::uint8_t *p, std::size_t n) noexcept {
    return n == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char *>(p), n);
}

inline dm_slice slice(std::string_view s) noexcept { return dm_slice{bytes(s), s.size()}; }

/** A non-negative duration in milliseconds for the C API; Error(DM_ERR_INVALID) if negative. */
inline std::uint64_t millis(std::chrono::milliseconds d, const char *where) {
    if (d.count() < 0) throw Error(DM_ERR_INVALID, where);
    return static_cast<std::uint64_t>(d.count());
}

/** Throws Error for a negative status, else returns it. */
inline dm_status check(dm_status s, const char *where) {
    if (s < 0) throw Error(s, where);
    return s;
}

/** Bytes tried on the stack before a read allocates the exact size. */
constexpr std::size_t small_value = 256;

struct EntryCall {
    void (*invoke)(void *fn, Entry &entry);
    void *fn;
    std::exception_ptr error;
    dm_status status;  // of applying the staged change
};

struct VisitCall {
    bool (*invoke)(void *fn, std::string_view key, std::string_view value);
    void *fn;
    std::exception_ptr error;
    bool after_error;  // the answer to the C side once the lambda has thrown
};

template <class F>
void invoke_entry(void *fn, Entry &entry) {
    (*static_cast<F *>(fn))(entry);
}

template <class F>
bool invoke_visit(void *fn, std::string_view key, std::string_view value) {
    F &f = *static_cast<F *>(fn);
    if constexpr (std::is_void_v<std::invoke_result_t<F &, std::string_view, std::string_view>>) {
        f(key, value);
        return true;
    } else {
        return static_cast<bool>(f(key, value));
    }
}

/** An object to point at: `f` itself, or a pointer when `f` is a plain function. */
template <class F>
decltype(auto) callee(F &f) noexcept {
    if constexpr (std::is_function_v<F>) {
        return &f;
    } else {
        return static_cast<F &>(f);
    }
}

template <class F>
void *erase_fn(F &f) noexcept {
    return const_cast<void *>(static_cast<const void *>(std::addressof(f)));
}

template <class Keys>
std::vector<dm_slice> slices(const Keys &keys) {
    std::vector<dm_slice> out;
    for (const auto &k : keys) out.push_back(slice(std::string_view(k)));
    return out;
}

struct EntryAccess;

}  // namespace detail

/**
 * The entry for one key, handed to the lambda of Map::update while the key's
 * shard is write-locked. set() and remove() are staged: value() and
 * occupied() reflect them at once, and they are applied to the map only when
 * the lambda returns normally (if it throws, the entry is left unchanged).
 * Valid only during that lambda; not copyable.
 */
class Entry {
public:
    /** Not copyable: an Entry is only valid inside its callback. */
    Entry(const Entry &) = delete;
    /** Not copyable: an Entry is only valid inside its callback. */
    Entry &operator=(const Entry &) = delete;

    /** The entry's key. */
    std::string_view key() const noexcept { return key_; }

    /** The current value (with staged changes), or std::nullopt when vacant. */
    std::optional<std::string_view> value() const noexcept {
        switch (op_) {
        case Op::set: return std::string_view(staged_);
        case Op::remove: return std::nullopt;
        case Op::keep: break;
        }
        return original_;
    }

    /** True when the entry holds a value (with staged changes). */
    bool occupied() const noexcept { return value().has_value(); }

    /** Stages `value` (copied now) as the entry's new value, inserting the key if vacant. */
    void set(std::string_view value) {
        staged_.assign(value.data(), value.size());
        op_ = Op::set;
    }

    /** Stages removal of the entry; returns whether it held a value. */
    bool remove() noexcept {
        bool was = occupied();
        op_ = Op::remove;
        return was;
    }

private:
    friend struct detail::EntryAccess;
    enum class Op { keep, set, remove };

    explicit Entry(dm_entry *e) noexcept : entry_(e) {
        std::size_t len = 0;
        const std::uint8_t *k = dm_entry_key(e, &len);
        key_ = detail::view(k, len);
        if (dm_entry_occupied(e)) {
            std::size_t vlen = 0;
            const std::uint8_t *v = dm_entry_value(e, &vlen);
            original_ = detail::view(v, vlen);
        }
    }

    dm_status apply() noexcept {
        switch (op_) {
        case Op::set: return dm_entry_set(entry_, detail::bytes(staged_), staged_.size());
        case Op::remove: {
            if (!original_) return DM_OK;
            dm_status s = dm_entry_remove(entry_);
            return s == DM_NOT_FOUND ? DM_OK : s;
        }
        case Op::keep: break;
        }
        return DM_OK;
    }

    dm_entry *entry_;
    std::string_view key_;
    std::optional<std::string_view> original_;
    Op op_ = Op::keep;
    std::string staged_;
};

namespace detail {

struct EntryAccess {
    static void run(dm_entry *e, EntryCall &call) {
        Entry entry(e);
        call.invoke(call.fn, entry);
        call.status = entry.apply();
    }
};

// The C trampolines: C linkage, internal linkage (one copy per translation
// unit, no exported symbol), and never let an exception reach the C library.
extern "C" {

static inline void dashmap_hpp_entry_trampoline(dm_entry *entry, void *ctx) noexcept {
    auto *call = static_cast<EntryCall *>(ctx);
    try {
        EntryAccess::run(entry, *call);
    } catch (...) {
        call->error = std::current_exception();
    }
}

static inline bool dashmap_hpp_visit_trampoline(const std::uint8_t *key, std::size_t key_len,
                                                const std::uint8_t *val, std::size_t val_len,
                                                void *ctx) noexcept {
    auto *call = static_cast<VisitCall *>(ctx);
    if (call->error) return call->after_error;
    try {
        return call->invoke(call->fn, view(key, key_len), view(val, val_len));
    } catch (...) {
        call->error = std::current_exception();
        return call->after_error;
    }
}

}  // extern "C"

}  // namespace detail

/**
 * An input iterator over a map's entries, yielding std::pair<std::string,
 * std::string> copies through a dm_iter cursor. The cursor holds its own
 * reference to the map and no lock between steps, so the loop body may use
 * the map freely. Every entry present for the whole iteration is seen exactly
 * once; entries added or removed meanwhile may or may not be. Copies of an
 * iterator share one cursor (like std::istream_iterator).
 */
class Iterator {
public:
    /** Input iterator. */
    using iterator_category = std::input_iterator_tag;
    /** A copied (key, value) pair. */
    using value_type = std::pair<std::string, std::string>;
    /** Unused distance type. */
    using difference_type = std::ptrdiff_t;
    /** Pointer to the current pair. */
    using pointer = value_type *;
    /** Reference to the current pair (owned by the iterator; valid until it advances). */
    using reference = value_type &;

    /** The end iterator. */
    Iterator() noexcept = default;

    /** The current (key, value) pair. */
    reference operator*() const noexcept { return state_->current; }

    /** Member access to the current pair. */
    pointer operator->() const noexcept { return &state_->current; }

    /** Advances to the next entry (or to the end). Throws Error on failure. */
    Iterator &operator++() {
        state_->advance();
        return *this;
    }

    /** Advances; returns a proxy whose operator* is the pair before the step. */
    struct PostIncrement {
        /** The pair before the increment. */
        value_type value;
        /** The pair before the increment. */
        value_type &operator*() noexcept { return value; }
    };

    /** Advances; `*it++` yields the pair before the step. */
    PostIncrement operator++(int) {
        PostIncrement old{state_->current};
        ++*this;
        return old;
    }

    /** Equal when both are at the end, or both share one cursor. */
    friend bool operator==(const Iterator &a, const Iterator &b) noexcept {
        return a.at_end() == b.at_end() && (a.at_end() || a.state_ == b.state_);
    }

    /** Negation of ==. */
    friend bool operator!=(const Iterator &a, const Iterator &b) noexcept { return !(a == b); }

private:
    friend class Map;

    struct State {
        dm_iter *it = nullptr;
        value_type current;
        bool done = false;

        explicit State(dm_iter *i) noexcept : it(i) {}
        State(const State &) = delete;
        State &operator=(const State &) = delete;
        ~State() { dm_iter_free(it); }

        void advance() {
            const std::uint8_t *k = nullptr, *v = nullptr;
            std::size_t kl = 0, vl = 0;
            dm_status s = dm_iter_next(it, &k, &kl, &v, &vl);
            if (s == DM_NOT_FOUND) {
                done = true;
                current = value_type();
                return;
            }
            detail::check(s, "dm_iter_next");
            std::string_view key = detail::view(k, kl), val = detail::view(v, vl);
            current.first.assign(key.data(), key.size());
            current.second.assign(val.data(), val.size());
        }
    };

    explicit Iterator(dm_iter *it) : state_(std::make_shared<State>(it)) { state_->advance(); }

    bool at_end() const noexcept { return !state_ || state_->done; }

    std::shared_ptr<State> state_;
};

/**
 * A concurrent hash map from byte strings to byte strings (a dm_map handle).
 * Copying shares the map (another dm_ref reference); moving transfers the
 * handle and leaves the source empty (any use of it throws DM_ERR_NULL).
 * Every member is thread-safe; see the file comment for the rules.
 */
class Map {
public:
    /** The iterator type (input iterator of pair copies). */
    using iterator = Iterator;
    /** Same as iterator: iteration never modifies the map. */
    using const_iterator = Iterator;

    /** An empty map with default options (dm_new). Throws Error(DM_ERR_NO_MEMORY). */
    Map() : map_(dm_new()) {
        if (!map_) throw Error(DM_ERR_NO_MEMORY, "dm_new");
    }

    /** An empty map with room for `capacity` entries (dm_with_capacity). */
    explicit Map(std::size_t capacity) : map_(dm_with_capacity(capacity)) {
        if (!map_) throw Error(DM_ERR_NO_MEMORY, "dm_with_capacity");
    }

    /** A map built from `options` (dm_new_with_options); Error(DM_ERR_INVALID) for bad shards/hasher. */
    explicit Map(const Options &options) : map_(nullptr) {
        dm_options o = options.to_c();
        detail::check(dm_new_with_options(&o, &map_), "dm_new_with_options");
    }

    /** A map with `shards` shards: a power of two in [2, DM_MAX_SHARDS], else Error(DM_ERR_INVALID). */
    static Map with_shards(std::size_t shards) { return with_capacity_and_shards(0, shards); }

    /** A map with room for `capacity` entries and `shards` shards (see with_shards). */
    static Map with_capacity_and_shards(std::size_t capacity, std::size_t shards) {
        if (shards == 0) throw Error(DM_ERR_INVALID, "dm_with_capacity_and_shards");
        Options o;
        o.capacity = capacity;
        o.shards = shards;
        return Map(o);
    }

    /** Takes ownership of one reference to `map` (released by this Map). Error(DM_ERR_NULL) for NULL. */
    static Map adopt(dm_map *map) {
        if (!map) throw Error(DM_ERR_NULL, "dashmap::Map::adopt");
        return Map(map, 0);
    }

    /** Shares `map` (takes a new dm_ref reference; the caller keeps its own). Error(DM_ERR_NULL) for NULL. */
    static Map from_handle(dm_map *map) {
        if (!map) throw Error(DM_ERR_NULL, "dashmap::Map::from_handle");
        return Map(dm_ref(map), 0);
    }

    /** Another handle to the same map (dm_ref); never blocks. */
    Map(const Map &other) noexcept : map_(dm_ref(other.map_)) {}

    /** Takes over `other`'s handle; `other` becomes empty. */
    Map(Map &&other) noexcept : map_(std::exchange(other.map_, nullptr)) {}

    /** Shares `other`'s map, releasing this handle's previous map. */
    Map &operator=(const Map &other) noexcept {
        if (this != &other) {
            dm_map *m = dm_ref(other.map_);
            dm_free(map_);
            map_ = m;
        }
        return *this;
    }

    /** Takes over `other`'s handle, releasing this handle's previous map. */
    Map &operator=(Map &&other) noexcept {
        if (this != &other) {
            dm_free(map_);
            map_ = std::exchange(other.map_, nullptr);
        }
        return *this;
    }

    /** Releases this handle (dm_free); the map is freed with its last handle. */
    ~Map() { dm_free(map_); }

    /** The C handle (no new reference), or NULL for a moved-from Map. */
    dm_map *native_handle() const noexcept { return map_; }

    /** True unless this Map was moved from. */
    explicit operator bool() const noexcept { return map_ != nullptr; }

    /** Inserts or replaces `key` -> `value`; returns true when an old value was replaced. */
    bool insert(std::string_view key, std::string_view value) {
        dm_status s = detail::check(
            dm_insert(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size()), "dm_insert");
        return s == DM_REPLACED;
    }

    /** Inserts only if `key` is absent; returns true when inserted. */
    bool try_insert(std::string_view key, std::string_view value) {
        dm_status s = detail::check(
            dm_try_insert(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size()),
            "dm_try_insert");
        return s == DM_OK;
    }

    /** A copy of the value of `key`, or std::nullopt when absent. */
    std::optional<std::string> get(std::string_view key) const {
        char stackbuf[detail::small_value];
        std::size_t len = 0;
        dm_status s = dm_get_copy(handle(), detail::bytes(key), key.size(), reinterpret_cast<std::uint8_t *>(stackbuf),
                                  sizeof stackbuf, &len);
        if (s == DM_OK) return std::string(stackbuf, len);
        std::string out;
        while (s == DM_BUFFER_TOO_SMALL) {  // the value may grow between calls
            out.resize(len);
            s = dm_get_copy(map_, detail::bytes(key), key.size(), detail::bytes(out), out.size(), &len);
        }
        if (s == DM_NOT_FOUND) return std::nullopt;
        detail::check(s, "dm_get_copy");
        out.resize(len);
        return out;
    }

    /** True when `key` is present. */
    bool contains(std::string_view key) const {
        std::size_t len = 0;  // a size query: nothing is copied
        dm_status s = dm_get_copy(handle(), detail::bytes(key), key.size(), nullptr, 0, &len);
        if (s == DM_NOT_FOUND) return false;
        detail::check(s, "dm_get_copy");
        return true;
    }

    /** Removes `key`; returns its value, or std::nullopt when it was absent. */
    std::optional<std::string> remove(std::string_view key) {
        char stackbuf[detail::small_value];
        std::size_t len = 0;
        dm_status s = dm_remove(handle(), detail::bytes(key), key.size(), reinterpret_cast<std::uint8_t *>(stackbuf),
                                sizeof stackbuf, &len);
        if (s == DM_OK) return std::string(stackbuf, len);
        std::string out;
        while (s == DM_BUFFER_TOO_SMALL) {  // nothing was removed; retry with room
            out.resize(len);
            s = dm_remove(map_, detail::bytes(key), key.size(), detail::bytes(out), out.size(), &len);
        }
        if (s == DM_NOT_FOUND) return std::nullopt;
        detail::check(s, "dm_remove");
        out.resize(len);
        return out;
    }

    /** Removes `key` without copying its value; returns whether it was present. */
    bool erase(std::string_view key) {
        return detail::check(dm_remove(handle(), detail::bytes(key), key.size(), nullptr, 0, nullptr), "dm_remove") ==
               DM_OK;
    }

    /**
     * Removes `key` if `pred(key, value)` returns true, atomically (the
     * predicate runs under the shard's write lock). Returns whether it was
     * removed. If `pred` throws, nothing is removed and the exception is rethrown.
     */
    template <class F>
    bool remove_if(std::string_view key, F &&pred) {
        auto &&callee = detail::callee(pred);
        using Fn = std::remove_reference_t<decltype(callee)>;
        detail::VisitCall call{&detail::invoke_visit<Fn>, detail::erase_fn(callee), nullptr, false};
        dm_status s =
            dm_remove_if(handle(), detail::bytes(key), key.size(), &detail::dashmap_hpp_visit_trampoline, &call);
        if (call.error) std::rethrow_exception(call.error);
        return detail::check(s, "dm_remove_if") == DM_OK;
    }

    /** Removes `key` only if its value equals `expected`; returns whether it was removed. */
    bool compare_and_remove(std::string_view key, std::string_view expected) {
        dm_status s = dm_compare_and_remove(handle(), detail::bytes(key), key.size(), detail::bytes(expected),
                                            expected.size());
        return detail::check(s, "dm_compare_and_remove") == DM_OK;
    }

    /** Sets `key` to `desired` only if its value equals `expected`; returns whether it was swapped. */
    bool compare_and_swap(std::string_view key, std::string_view expected, std::string_view desired) {
        dm_status s = dm_compare_and_swap(handle(), detail::bytes(key), key.size(), detail::bytes(expected),
                                          expected.size(), detail::bytes(desired), desired.size());
        return detail::check(s, "dm_compare_and_swap") == DM_OK;
    }

    /** Stores `value` under `key`; returns the previous value, or std::nullopt when the key was new. */
    std::optional<std::string> swap(std::string_view key, std::string_view value) {
        char stackbuf[detail::small_value];
        std::size_t len = 0;
        dm_status s = dm_swap(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size(),
                              reinterpret_cast<std::uint8_t *>(stackbuf), sizeof stackbuf, &len);
        if (s == DM_REPLACED) return std::string(stackbuf, len);
        std::string out;
        while (s == DM_BUFFER_TOO_SMALL) {  // nothing changed; retry with room
            out.resize(len);
            s = dm_swap(map_, detail::bytes(key), key.size(), detail::bytes(value), value.size(), detail::bytes(out),
                        out.size(), &len);
        }
        if (detail::check(s, "dm_swap") == DM_OK) return std::nullopt;
        out.resize(len);
        return out;
    }

    /**
     * Returns the existing value of `key`, or inserts `value` when absent:
     * {the value now stored, true when `value` was inserted}.
     */
    std::pair<std::string, bool> get_or_insert(std::string_view key, std::string_view value) {
        char stackbuf[detail::small_value];
        std::size_t len = 0;
        dm_status s = dm_get_or_insert(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size(),
                                       reinterpret_cast<std::uint8_t *>(stackbuf), sizeof stackbuf, &len);
        if (s == DM_EXISTS) return {std::string(stackbuf, len), false};
        std::string out;
        while (s == DM_BUFFER_TOO_SMALL) {  // nothing changed; retry with room
            out.resize(len);
            s = dm_get_or_insert(map_, detail::bytes(key), key.size(), detail::bytes(value), value.size(),
                                 detail::bytes(out), out.size(), &len);
        }
        if (detail::check(s, "dm_get_or_insert") == DM_OK) return {std::string(value), true};
        out.resize(len);
        return {std::move(out), false};
    }

    /**
     * Adds `delta` to the 8-byte little-endian int64 counter at `key` (absent
     * counts as 0; overflow wraps) and returns the new value. Error(DM_ERR_INVALID)
     * when the existing value is not 8 bytes. Concurrent adds never lose an update.
     */
    std::int64_t add(std::string_view key, std::int64_t delta) {
        std::int64_t result = 0;
        detail::check(dm_add_i64(handle(), detail::bytes(key), key.size(), delta, &result), "dm_add_i64");
        return result;
    }

    /**
     * Runs `f(Entry &)` on the entry for `key` under the shard's write lock and
     * then applies what it staged (Entry::set / Entry::remove) as one atomic
     * step: the general or_insert / and_modify / alter. If `f` throws, nothing
     * is applied and the exception is rethrown after the lock is released.
     * `f` must not use this map (Error DM_ERR_REENTRANT); other maps are fine.
     */
    template <class F>
    void update(std::string_view key, F &&f) {
        auto &&callee = detail::callee(f);
        using Fn = std::remove_reference_t<decltype(callee)>;
        detail::EntryCall call{&detail::invoke_entry<Fn>, detail::erase_fn(callee), nullptr, DM_OK};
        dm_status s =
            dm_entry_update(handle(), detail::bytes(key), key.size(), &detail::dashmap_hpp_entry_trampoline, &call);
        if (call.error) std::rethrow_exception(call.error);
        detail::check(s, "dm_entry_update");
        detail::check(call.status, "dm_entry_set");
    }

    /**
     * Calls `f(key, value)` for every entry, shard by shard under read locks,
     * until `f` returns false (`f` may also return void: continue). Returns
     * true when every entry was visited. If `f` throws, the walk stops and the
     * exception is rethrown. `f` must not use this map (DM_ERR_REENTRANT);
     * iterate with begin()/end() for that.
     */
    template <class F>
    bool for_each(F &&f) const {
        auto &&callee = detail::callee(f);
        using Fn = std::remove_reference_t<decltype(callee)>;
        detail::VisitCall call{&detail::invoke_visit<Fn>, detail::erase_fn(callee), nullptr, false};
        dm_status s = dm_for_each(handle(), &detail::dashmap_hpp_visit_trampoline, &call);
        if (call.error) std::rethrow_exception(call.error);
        return detail::check(s, "dm_for_each") == DM_OK;
    }

    /**
     * Keeps only the entries for which `keep(key, value)` returns true, shard
     * by shard under write locks. If `keep` throws, every entry not yet
     * decided is kept (`keep` is not called again) and the exception is rethrown.
     */
    template <class F>
    void retain(F &&keep) {
        auto &&callee = detail::callee(keep);
        using Fn = std::remove_reference_t<decltype(callee)>;
        detail::VisitCall call{&detail::invoke_visit<Fn>, detail::erase_fn(callee), nullptr, true};
        dm_status s = dm_retain_cb(handle(), &detail::dashmap_hpp_visit_trampoline, &call);
        if (call.error) std::rethrow_exception(call.error);
        detail::check(s, "dm_retain_cb");
    }

    /**
     * Looks up many keys at once (each shard's read lock taken once). `keys`
     * is any range of elements convertible to std::string_view (std::string,
     * std::string_view, const char *) that stay valid during the call.
     * Returns one optional value per key, in order.
     */
    template <class Keys>
    std::vector<std::optional<std::string>> get_many(const Keys &keys) const {
        std::vector<dm_slice> ks = detail::slices(keys);
        return get_many_slices(ks);
    }

    /** get_many over a braced list: m.get_many({"a", "b"}). */
    std::vector<std::optional<std::string>> get_many(std::initializer_list<std::string_view> keys) const {
        return get_many<std::initializer_list<std::string_view>>(keys);
    }

    /**
     * Inserts or replaces many pairs (each shard's write lock taken once).
     * `pairs` is any range of elements with `.first` / `.second` convertible
     * to std::string_view (std::map<std::string, std::string>,
     * std::vector<std::pair<...>>). A key listed twice ends with its last value.
     */
    template <class Pairs>
    void extend(const Pairs &pairs) {
        std::vector<dm_slice> ks, vs;
        for (const auto &p : pairs) {
            ks.push_back(detail::slice(std::string_view(p.first)));
            vs.push_back(detail::slice(std::string_view(p.second)));
        }
        detail::check(dm_extend(handle(), ks.data(), vs.data(), ks.size()), "dm_extend");
    }

    /** extend over a braced list: m.extend({{"a", "1"}, {"b", "2"}}). */
    void extend(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
        extend<std::initializer_list<std::pair<std::string_view, std::string_view>>>(pairs);
    }

    /** extend from parallel ranges of keys and values; Error(DM_ERR_INVALID) if their lengths differ. */
    template <class Keys, class Values>
    void extend(const Keys &keys, const Values &values) {
        std::vector<dm_slice> ks = detail::slices(keys), vs = detail::slices(values);
        if (ks.size() != vs.size()) throw Error(DM_ERR_INVALID, "dm_extend");
        detail::check(dm_extend(handle(), ks.data(), vs.data(), ks.size()), "dm_extend");
    }

    /** Removes many keys (each shard's write lock taken once); returns how many were present. */
    template <class Keys>
    std::size_t remove_many(const Keys &keys) {
        std::vector<dm_slice> ks = detail::slices(keys);
        std::size_t removed = 0;
        detail::check(dm_remove_many(handle(), ks.data(), ks.size(), &removed), "dm_remove_many");
        return removed;
    }

    /** remove_many over a braced list: m.remove_many({"a", "b"}). */
    std::size_t remove_many(std::initializer_list<std::string_view> keys) {
        return remove_many<std::initializer_list<std::string_view>>(keys);
    }

    // ------------------------------------------------------------ TTL

    /** What ttl_remaining() reports for an entry that never expires. */
    static constexpr std::chrono::milliseconds never = std::chrono::milliseconds::max();

    /**
     * Like insert(), and the entry expires `ttl` from now (0 = never;
     * negative: Error(DM_ERR_INVALID)). Replacing an entry replaces its TTL.
     * Returns true when an old value was replaced.
     */
    bool insert_ttl(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        std::uint64_t ms = detail::millis(ttl, "dm_insert_ttl");
        dm_status s = detail::check(
            dm_insert_ttl(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size(), ms),
            "dm_insert_ttl");
        return s == DM_REPLACED;
    }

    /** Like try_insert(); a newly inserted entry expires `ttl` from now (0 = never). True when inserted. */
    bool try_insert_ttl(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        std::uint64_t ms = detail::millis(ttl, "dm_try_insert_ttl");
        dm_status s = detail::check(
            dm_try_insert_ttl(handle(), detail::bytes(key), key.size(), detail::bytes(value), value.size(), ms),
            "dm_try_insert_ttl");
        return s == DM_OK;
    }

    /**
     * Like add(); a counter created by this call (absent or expired) expires
     * `ttl` from now (0 = never) and later adds keep that deadline: one call
     * per request is a fixed-window rate limiter. Returns the new value.
     */
    std::int64_t add_ttl(std::string_view key, std::int64_t delta, std::chrono::milliseconds ttl) {
        std::uint64_t ms = detail::millis(ttl, "dm_add_i64_ttl");
        std::int64_t result = 0;
        detail::check(dm_add_i64_ttl(handle(), detail::bytes(key), key.size(), delta, ms, &result), "dm_add_i64_ttl");
        return result;
    }

    /** Sets an existing entry's TTL to `ttl` from now (0 = never expires); false when absent or expired. */
    bool expire(std::string_view key, std::chrono::milliseconds ttl) {
        std::uint64_t ms = detail::millis(ttl, "dm_expire");
        return detail::check(dm_expire(handle(), detail::bytes(key), key.size(), ms), "dm_expire") == DM_OK;
    }

    /** Pushes an existing entry's expiry to `ttl` (> 0) from now (sliding timeout); false when absent or expired. */
    bool touch(std::string_view key, std::chrono::milliseconds ttl) {
        std::uint64_t ms = detail::millis(ttl, "dm_touch");
        return detail::check(dm_touch(handle(), detail::bytes(key), key.size(), ms), "dm_touch") == DM_OK;
    }

    /** Time `key` has left (at least 1 ms), Map::never when it never expires, std::nullopt when absent or expired. */
    std::optional<std::chrono::milliseconds> ttl_remaining(std::string_view key) const {
        std::uint64_t ms = 0;
        dm_status s = dm_ttl_remaining(handle(), detail::bytes(key), key.size(), &ms);
        if (s == DM_NOT_FOUND) return std::nullopt;
        detail::check(s, "dm_ttl_remaining");
        if (ms > static_cast<std::uint64_t>(never.count())) return never;  // DM_TTL_NONE
        return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
    }

    /** Removes every expired entry (shard by shard); returns how many. */
    std::size_t purge_expired() {
        std::size_t removed = 0;
        detail::check(dm_purge_expired(handle(), &removed), "dm_purge_expired");
        return removed;
    }

    /** Sets the manual clock (Options::manual_clock); Error(DM_ERR_INVALID) for a map on real time. */
    void clock_set(std::chrono::milliseconds now) {
        detail::check(dm_clock_set(handle(), detail::millis(now, "dm_clock_set")), "dm_clock_set");
    }

    /** The map's current time: the manual clock, or the monotonic clock since the library's first use. */
    std::chrono::milliseconds clock_now() const {
        return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(dm_clock_now(handle())));
    }

    // ---------------------------------------------------- size and layout

    /** Number of entries stored (a moment's count; includes expired entries until purged). */
    std::size_t size() const {
        std::size_t n = dm_len(handle());
        if (n == SIZE_MAX) throw Error(DM_ERR_REENTRANT, "dm_len");
        return n;
    }

    /** True when the map has no entries. */
    bool empty() const { return size() == 0; }

    /** Entries the map can hold without growing. */
    std::size_t capacity() const {
        std::size_t n = dm_capacity(handle());
        if (n == SIZE_MAX) throw Error(DM_ERR_REENTRANT, "dm_capacity");
        return n;
    }

    /** Removes every entry, shard by shard; keeps the capacity. */
    void clear() { detail::check(dm_clear(handle()), "dm_clear"); }

    /** Releases unused capacity, shard by shard. */
    void shrink_to_fit() { detail::check(dm_shrink_to_fit(handle()), "dm_shrink_to_fit"); }

    /** Number of shards (fixed at creation; works inside callbacks). */
    std::size_t shard_count() const { return dm_shard_count(handle()); }

    /** Entries in shard `shard`; Error(DM_ERR_INVALID) when shard >= shard_count(). */
    std::size_t shard_len(std::size_t shard) const {
        std::size_t n = 0;
        detail::check(dm_shard_len(handle(), shard, &n), "dm_shard_len");
        return n;
    }

    /** Size and layout statistics (each shard counted atomically). */
    Stats stats() const {
        dm_stats s{};
        detail::check(dm_stats_get(handle(), &s), "dm_stats_get");
        Stats out;
        out.len = s.len;
        out.capacity = s.capacity;
        out.shards = s.shards;
        out.min_shard_len = s.min_shard_len;
        out.max_shard_len = s.max_shard_len;
        out.key_bytes = s.key_bytes;
        out.value_bytes = s.value_bytes;
        return out;
    }

    /** An iterator at the first entry (a new dm_iter cursor); see Iterator. */
    Iterator begin() const {
        dm_iter *it = dm_iter_new(handle());
        if (!it) {
            // NULL means "inside a callback on this map" or "out of memory".
            std::size_t n = 0;
            dm_status s = dm_shard_len(map_, 0, &n);
            throw Error(s == DM_ERR_REENTRANT ? s : DM_ERR_NO_MEMORY, "dm_iter_new");
        }
        return Iterator(it);
    }

    /** The end iterator. */
    Iterator end() const noexcept { return Iterator(); }

private:
    Map(dm_map *map, int) noexcept : map_(map) {}

    dm_map *handle() const {
        if (!map_) throw Error(DM_ERR_NULL, "dashmap::Map (moved-from)");
        return map_;
    }

    std::vector<std::optional<std::string>> get_many_slices(const std::vector<dm_slice> &ks) const {
        const std::size_t n = ks.size();
        std::vector<std::size_t> lens(n);
        std::string buf(detail::small_value, '\0');
        for (;;) {
            std::size_t used = 0;
            dm_status s = dm_get_many(handle(), ks.data(), n, detail::bytes(buf), buf.size(), lens.data(), &used);
            if (s == DM_BUFFER_TOO_SMALL) {  // values may grow between calls: loop
                buf.resize(used);
                continue;
            }
            detail::check(s, "dm_get_many");
            break;
        }
        std::vector<std::optional<std::string>> out;
        out.reserve(n);
        std::size_t off = 0;
        for (std::size_t i = 0; i < n; i++) {
            if (lens[i] == SIZE_MAX) {
                out.emplace_back(std::nullopt);
            } else {
                out.emplace_back(std::string(buf.data() + off, lens[i]));
                off += lens[i];
            }
        }
        return out;
    }

    dm_map *map_;
};

}  // namespace dashmap

#endif /* LIBDASHMAP_HPP */
