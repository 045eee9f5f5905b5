//! Zig bindings for libdashmap, a concurrent hash map from byte strings to
//! byte strings (a C ABI over Rust's `dashmap`).
//!
//! ```zig
//! const dashmap = @import("dashmap");
//!
//! var map = try dashmap.Map.init(.{});
//! defer map.deinit();
//! try map.put("key", "value");
//! if (try map.get(allocator, "key")) |value| {
//!     defer allocator.free(value);
//!     ...
//! }
//! ```
//!
//! Model
//! - Keys and values are `[]const u8`; the map copies them in and never keeps
//!   the caller's memory. Values handed back either live in memory the caller
//!   owns (functions taking an `Allocator`, or a caller's buffer) or are
//!   borrowed for the duration of a callback or until `Iterator.next`.
//!   Functions taking an `Allocator` copy under the key's shard lock (that is
//!   what makes `get`, `remove` and `swap` single atomic steps), so the
//!   allocator should be a quick one.
//! - Every method may be called from any number of threads at once. A `Map`
//!   is a handle (one pointer); give each thread or component that may outlive
//!   the others its own handle with `ref()`, and `deinit` each one. The map is
//!   freed when the last handle is released.
//! - Single-key operations are atomic. Whole-map operations (`len`, `clear`,
//!   `retain`, `forEach`, `stats`) work one shard at a time.
//! - Entries may have a time-to-live (`putTtl`, `tryInsertTtl`, `addTtl`,
//!   `expire`, `touch`), in milliseconds on the map's clock: monotonic, or
//!   moved only by `setClock` with `Options.manual_clock`. An expired entry is
//!   absent for every read, walk and atomic at once; `len` and `stats` count
//!   it until a write meets it or `purgeExpired` sweeps it. Writes that
//!   replace a whole entry (`put`, `insert`, `swap`, `putMany`) drop its TTL;
//!   in-place updates (`add`, `compareAndSwap`, `update`, `forEachMut`) keep it.
//! - `Options.max_entries` bounds a map: a new key beyond it is refused with
//!   `error.Full`; existing keys can always be updated.
//! - Callbacks (`update`, `getWith`, `removeIf`, `retain`, `forEach`,
//!   `forEachMut`) run on the calling thread while a shard lock is held: keep
//!   them short. Using the same map from inside one returns `error.Reentrant`
//!   instead of deadlocking (`ref`, `deinit` and `shardCount` still work);
//!   other maps may be used freely. A Zig panic in a callback ends the process,
//!   as it would anywhere else.
//!
//! Errors: every fallible function returns `Error` (see there).

const std = @import("std");
const Allocator = std.mem.Allocator;

/// The raw C API, translated from dashmap.h at build time: an escape hatch
/// for whatever this wrapper does not cover.
pub const c = @import("c");

/// Every failure of this binding. The C library's negative statuses map one
/// to one; the rest come from the wrapper itself.
pub const Error = error{
    /// Memory could not be allocated, by the library (`DM_ERR_NO_MEMORY`) or
    /// by the `Allocator` passed in. The map is unchanged.
    OutOfMemory,
    /// The map holds `Options.max_entries` entries, so a new key was refused
    /// (`DM_ERR_FULL`); updates of existing keys still work. Nothing changed.
    Full,
    /// The map was used from inside one of its own callbacks
    /// (`DM_ERR_REENTRANT`); nothing happened.
    Reentrant,
    /// An argument is out of range (`DM_ERR_INVALID`): a shard count that is
    /// not a power of two in [2, `max_shards`], a shard index past the end,
    /// `touch` with a TTL of 0, or `setClock` on a map that follows real time.
    InvalidArgument,
    /// `add` found a value that is not an 8-byte counter (`DM_ERR_INVALID`
    /// from `dm_add_i64`); nothing changed.
    NotACounter,
    /// The value does not fit the caller's buffer; nothing changed. Ask the
    /// size with `valueLen`, or use the allocating variant.
    BufferTooSmall,
    /// A bug inside libdashmap was caught (`DM_ERR_PANIC`); the map is still usable.
    Panic,
    /// The library reported a NULL argument (`DM_ERR_NULL`). The wrapper never
    /// passes one, so this means a bug in the binding.
    NullPointer,
    /// The library returned a status this binding does not know (a newer
    /// library with an older binding).
    Unexpected,
};

/// The largest shard count a map accepts.
pub const max_shards: usize = c.DM_MAX_SHARDS;

/// The version of dashmap.h this binding was compiled against.
pub const header_version: std.SemanticVersion = .{
    .major = c.DM_VERSION_MAJOR,
    .minor = c.DM_VERSION_MINOR,
    .patch = c.DM_VERSION_PATCH,
};

/// The version of the libdashmap linked at run time, "MAJOR.MINOR.PATCH".
/// Equals `header_version` unless the header and the library disagree.
pub fn version() []const u8 {
    return std.mem.span(c.dm_version());
}

/// The version of the linked library as MAJOR * 10000 + MINOR * 100 + PATCH
/// (compare with `c.DM_VERSION_NUMBER`).
pub fn versionNumber() u32 {
    return c.dm_version_number();
}

/// The library's own one-line description of an error (from `dm_status_str`);
/// errors that do not come from the library get a description of their own.
pub fn describe(err: Error) []const u8 {
    const status: c.dm_status = switch (err) {
        error.OutOfMemory => c.DM_ERR_NO_MEMORY,
        error.Full => c.DM_ERR_FULL,
        error.Reentrant => c.DM_ERR_REENTRANT,
        error.InvalidArgument => c.DM_ERR_INVALID,
        error.NullPointer => c.DM_ERR_NULL,
        error.Panic => c.DM_ERR_PANIC,
        error.BufferTooSmall => c.DM_BUFFER_TOO_SMALL,
        error.NotACounter => return "the value is not an 8-byte counter",
        error.Unexpected => return "unexpected status from libdashmap",
    };
    return std.mem.span(c.dm_status_str(status));
}

/// Which hash function a map uses.
pub const Hasher = enum(c.dm_hasher) {
    /// SipHash-1-3 with secret keys: resistant to HashDoS. The default.
    siphash = c.DM_HASHER_SIPHASH,
    /// foldhash: several times faster on short keys, but an attacker who can
    /// choose keys may force collisions. For trusted keys.
    fast = c.DM_HASHER_FAST,
};

/// How to build a map (`Map.init`). The defaults give `dm_new()`'s map.
pub const Options = struct {
    /// Entries to pre-allocate room for; 0 starts empty.
    capacity: usize = 0,
    /// Number of shards (independent locks): a power of two in
    /// [2, `max_shards`], or 0 for the default (4 x CPUs rounded up, at least 64).
    shards: usize = 0,
    hasher: Hasher = .siphash,
    /// 0: random keys per map. Non-zero: hashing and shard placement are the
    /// same in every run and process of this library version (reproducible,
    /// but predictable).
    seed: u64 = 0,
    /// 0: unbounded. Otherwise a new key is refused with `error.Full` while
    /// the map holds this many entries (expired ones in the key's shard are
    /// swept first).
    max_entries: usize = 0,
    /// false: TTLs follow the monotonic clock. true: they follow a clock that
    /// starts at 0 and only `Map.setClock` moves (tests, simulations).
    manual_clock: bool = false,
};

/// How long an entry has left (`Map.ttl`).
pub const Ttl = union(enum) {
    /// The entry has no time-to-live.
    never,
    /// Milliseconds until it expires (at least 1).
    ms: u64,
};

/// A snapshot of a map's size and layout (`Map.stats`). Each shard is
/// counted atomically, the map as a whole is not.
pub const Stats = struct {
    /// Entries.
    len: usize,
    /// Entries the tables can hold without growing.
    capacity: usize,
    shards: usize,
    /// Entries in the emptiest and in the fullest shard (how well keys spread).
    min_shard_len: usize,
    max_shard_len: usize,
    /// Total bytes of all keys, and of all values, stored.
    key_bytes: usize,
    value_bytes: usize,
};

/// What `compareAndSwap` and `compareAndRemove` did.
pub const CasResult = enum {
    /// The value matched and was replaced (or removed).
    success,
    /// The key holds another value; nothing changed.
    mismatch,
    /// The key is absent; nothing changed.
    not_found,
};

/// What `getOrInsert` found.
pub const GetOrInsertResult = struct {
    /// true: the key was present and `value` is its existing value.
    /// false: the given value was inserted and `value` is a copy of it.
    found_existing: bool,
    /// Owned by the caller: free it with the allocator passed to `getOrInsert`.
    value: []u8,
};

/// A key and its value, borrowed from an `Iterator` until its next `next()`.
pub const KV = struct {
    key: []const u8,
    value: []const u8,
};

/// A handle to a concurrent map of byte strings. Copying the struct copies
/// the handle without taking a reference: use `ref()` for a second owner.
pub const Map = struct {
    handle: *c.dm_map,

    /// Creates a map. Release it with `deinit`.
    /// Errors: `InvalidArgument` (bad shard count or hasher), `OutOfMemory`
    /// (the capacity cannot be allocated), `Panic`.
    pub fn init(options: Options) Error!Map {
        // From the library's defaults, so fields added later keep their default.
        var opts = c.dm_options_default();
        opts.capacity = options.capacity;
        opts.shards = options.shards;
        opts.hasher = @intFromEnum(options.hasher);
        opts.seed = options.seed;
        opts.max_entries = options.max_entries;
        opts.manual_clock = options.manual_clock;
        var out: ?*c.dm_map = null;
        _ = try check(c.dm_new_with_options(&opts, &out));
        return .{ .handle = out orelse return error.Unexpected };
    }

    /// Releases this handle; the last handle frees the map and its entries.
    /// The handle must not be used afterwards. Safe inside callbacks.
    pub fn deinit(self: *Map) void {
        c.dm_free(self.handle);
        self.* = undefined;
    }

    /// Another handle to the same map, to give to a thread or component that
    /// may outlive this one. Each handle is released by its own `deinit`.
    /// Never blocks; allowed inside callbacks.
    pub fn ref(self: Map) Map {
        return .{ .handle = c.dm_ref(self.handle).? };
    }

    // ---------------------------------------------------------------- insert

    /// Stores `value` under `key`, replacing any previous entry (and its TTL).
    /// Use `insert` to learn whether a value was replaced, `swap` to get it back.
    /// `error.Full`: a bounded map refused a new key.
    pub fn put(self: Map, key: []const u8, value: []const u8) Error!void {
        _ = try self.insert(key, value);
    }

    /// Stores `value` under `key`; returns true when the key existed and its
    /// value was replaced, false when the key was new.
    pub fn insert(self: Map, key: []const u8, value: []const u8) Error!bool {
        const status = c.dm_insert(self.handle, ptr(key), key.len, ptr(value), value.len);
        return switch (try check(status)) {
            c.DM_OK => false,
            c.DM_REPLACED => true,
            else => error.Unexpected,
        };
    }

    /// Stores `value` under `key` only if the key is absent. Returns true when
    /// it was inserted, false when the key was present (nothing changed).
    pub fn tryInsert(self: Map, key: []const u8, value: []const u8) Error!bool {
        const status = c.dm_try_insert(self.handle, ptr(key), key.len, ptr(value), value.len);
        return switch (try check(status)) {
            c.DM_OK => true,
            c.DM_EXISTS => false,
            else => error.Unexpected,
        };
    }

    /// Stores `value` under `key` as a whole new entry (any TTL is dropped)
    /// and returns the previous value (owned by the caller, allocated with
    /// `allocator`), or null when the key was new. One atomic exchange.
    pub fn swap(self: Map, allocator: Allocator, key: []const u8, value: []const u8) Error!?[]u8 {
        // Room for the old value is allocated before the exchange, so running
        // out of memory never loses it; a value that grew meanwhile makes the
        // library refuse (DM_BUFFER_TOO_SMALL, nothing changed) and we retry.
        var cap: usize = (try self.valueLen(key)) orelse 0;
        while (true) {
            const buf = try allocator.alloc(u8, cap);
            var n: usize = 0;
            const status = c.dm_swap(self.handle, ptr(key), key.len, ptr(value), value.len, mutPtr(buf), buf.len, &n);
            const outcome = check(status) catch |err| {
                allocator.free(buf);
                return err;
            };
            switch (outcome) {
                c.DM_REPLACED => {
                    if (n == buf.len) return buf;
                    // The value shrank between sizing and exchanging. Only an
                    // allocator that can neither shrink nor allocate n bytes
                    // loses the old value here (error.OutOfMemory).
                    if (allocator.resize(buf, n)) return buf[0..n];
                    defer allocator.free(buf);
                    return try allocator.dupe(u8, buf[0..n]);
                },
                c.DM_BUFFER_TOO_SMALL => cap = n,
                else => {
                    allocator.free(buf);
                    return if (outcome == c.DM_OK) null else error.Unexpected;
                },
            }
            allocator.free(buf);
        }
    }

    /// Returns the value of `key` if present, or inserts `value` ("or_insert").
    /// The result's `value` is a copy owned by the caller in both cases.
    pub fn getOrInsert(self: Map, allocator: Allocator, key: []const u8, value: []const u8) Error!GetOrInsertResult {
        const Ctx = struct {
            allocator: Allocator,
            value: []const u8,
            fn f(ctx: *@This(), entry: *Entry) Error!GetOrInsertResult {
                if (entry.value()) |existing| {
                    return .{ .found_existing = true, .value = try ctx.allocator.dupe(u8, existing) };
                }
                // Allocate first: then a failure leaves the map unchanged.
                const copy = try ctx.allocator.dupe(u8, ctx.value);
                errdefer ctx.allocator.free(copy);
                try entry.set(ctx.value);
                return .{ .found_existing = false, .value = copy };
            }
        };
        var ctx: Ctx = .{ .allocator = allocator, .value = value };
        return self.update(key, &ctx, Ctx.f);
    }

    /// Stores every `keys[i]` -> `values[i]` pair (a key listed twice ends with
    /// its last value), taking each shard's lock once per batch of
    /// `batch_size` pairs. Asserts the slices have the same length. If growing
    /// a table fails midway, pairs already stored stay stored.
    pub fn putMany(self: Map, keys: []const []const u8, values: []const []const u8) Error!void {
        std.debug.assert(keys.len == values.len);
        var key_buf: [batch_size]c.dm_slice = undefined;
        var val_buf: [batch_size]c.dm_slice = undefined;
        var i: usize = 0;
        while (i < keys.len) {
            const n = @min(batch_size, keys.len - i);
            for (0..n) |j| {
                key_buf[j] = slice(keys[i + j]);
                val_buf[j] = slice(values[i + j]);
            }
            _ = try check(c.dm_extend(self.handle, &key_buf, &val_buf, n));
            i += n;
        }
    }

    /// How many pairs `putMany` and `deleteMany` hand to the library at once
    /// (they build their argument arrays on the stack).
    pub const batch_size = 128;

    // ---------------------------------------------------------------- read

    /// A copy of the value of `key` (owned by the caller, allocated with
    /// `allocator`), or null when absent. The copy is made under the shard's
    /// read lock, so it is one consistent value.
    pub fn get(self: Map, allocator: Allocator, key: []const u8) Error!?[]u8 {
        const Ctx = struct {
            allocator: Allocator,
            result: Allocator.Error![]u8 = error.OutOfMemory,
            fn f(ctx: *@This(), value: []const u8) void {
                ctx.result = ctx.allocator.dupe(u8, value);
            }
        };
        var ctx: Ctx = .{ .allocator = allocator };
        if (!try self.getWith(key, &ctx, Ctx.f)) return null;
        return try ctx.result;
    }

    /// The values of many keys, from `getMany`.
    pub const Values = struct {
        /// `values[i]` is the value of `keys[i]`, or null when it was absent;
        /// the slices point into `bytes`.
        values: []?[]const u8,
        bytes: []u8,

        pub fn deinit(self: *Values, allocator: Allocator) void {
            allocator.free(self.values);
            allocator.free(self.bytes);
            self.* = undefined;
        }
    };

    /// Looks up every key in `keys`, `batch_size` keys per library call
    /// (`dm_get_many`: each batch takes its shards' read access once, so a
    /// batch sees one consistent state, and the lookups overlap their cache
    /// misses). Copies the values into one allocation; free the result with
    /// `Values.deinit`.
    pub fn getMany(self: Map, allocator: Allocator, keys: []const []const u8) Error!Values {
        const values = try allocator.alloc(?[]const u8, keys.len);
        errdefer allocator.free(values);
        // Where each value lies in `data` while `data` still grows.
        const spans = try allocator.alloc(?[2]usize, keys.len);
        defer allocator.free(spans);
        var data = std.ArrayList(u8).init(allocator);
        errdefer data.deinit();
        var key_buf: [batch_size]c.dm_slice = undefined;
        var lens: [batch_size]usize = undefined;
        var i: usize = 0;
        while (i < keys.len) {
            const n = @min(batch_size, keys.len - i);
            for (0..n) |j| key_buf[j] = slice(keys[i + j]);
            const start = data.items.len;
            while (true) {
                // Offer all spare capacity; when it is short the library says
                // how much the batch needs (values may grow meanwhile: retry).
                const spare = data.allocatedSlice()[start..];
                var used: usize = 0;
                const status = try check(c.dm_get_many(self.handle, &key_buf, n, mutPtr(spare), spare.len, &lens, &used));
                if (status == c.DM_OK) {
                    data.items.len = start + used;
                    break;
                }
                if (status != c.DM_BUFFER_TOO_SMALL) return error.Unexpected;
                try data.ensureTotalCapacity(start + used);
            }
            var at = start;
            for (0..n) |j| {
                if (lens[j] == std.math.maxInt(usize)) {
                    spans[i + j] = null;
                } else {
                    spans[i + j] = .{ at, lens[j] };
                    at += lens[j];
                }
            }
            i += n;
        }
        const owned = try data.toOwnedSlice();
        for (spans, values) |span, *value| {
            value.* = if (span) |s| owned[s[0]..][0..s[1]] else null;
        }
        return .{ .values = values, .bytes = owned };
    }

    /// Copies the value of `key` into `buf` and returns the filled part of
    /// `buf`, or null when absent. Allocates nothing. Returns
    /// `error.BufferTooSmall` (nothing copied) when the value does not fit;
    /// `valueLen` tells the size needed (at that moment).
    pub fn getInto(self: Map, key: []const u8, buf: []u8) Error!?[]u8 {
        var n: usize = 0;
        const status = c.dm_get_copy(self.handle, ptr(key), key.len, mutPtr(buf), buf.len, &n);
        return switch (try check(status)) {
            c.DM_OK => buf[0..n],
            c.DM_NOT_FOUND => null,
            c.DM_BUFFER_TOO_SMALL => error.BufferTooSmall,
            else => error.Unexpected,
        };
    }

    /// The length of the value of `key`, or null when absent. Another thread
    /// may change the value right after; `get` needs no such size.
    pub fn valueLen(self: Map, key: []const u8) Error!?usize {
        var n: usize = 0;
        const status = c.dm_get_copy(self.handle, ptr(key), key.len, null, 0, &n);
        return switch (try check(status)) {
            c.DM_OK, c.DM_BUFFER_TOO_SMALL => n,
            c.DM_NOT_FOUND => null,
            else => error.Unexpected,
        };
    }

    /// Zero-copy read: calls `f(context, value)` with the stored value under
    /// the shard's read lock and returns true, or returns false (without
    /// calling `f`) when the key is absent. `value` is valid only during the
    /// call; `f` must not use this map (`error.Reentrant`).
    pub fn getWith(
        self: Map,
        key: []const u8,
        context: anytype,
        comptime f: fn (@TypeOf(context), value: []const u8) void,
    ) Error!bool {
        const Context = @TypeOf(context);
        const Tramp = struct {
            fn call(val: [*c]const u8, val_len: usize, raw: ?*anyopaque) callconv(.c) void {
                f(ctxFrom(Context, raw), bytes(val, val_len));
            }
        };
        const status = c.dm_get_with(self.handle, ptr(key), key.len, Tramp.call, ctxPtr(&context));
        return switch (try check(status)) {
            c.DM_OK => true,
            c.DM_NOT_FOUND => false,
            else => error.Unexpected,
        };
    }

    /// True when `key` is present.
    pub fn contains(self: Map, key: []const u8) Error!bool {
        return (try self.valueLen(key)) != null;
    }

    // ---------------------------------------------------------------- remove

    /// Removes `key` and returns its value (owned by the caller, allocated
    /// with `allocator`), or null when absent. If the allocation fails the
    /// entry stays in place.
    pub fn remove(self: Map, allocator: Allocator, key: []const u8) Error!?[]u8 {
        const Ctx = struct {
            allocator: Allocator,
            /// Set when the predicate ran (the key was present).
            result: ?Allocator.Error![]u8 = null,
            fn pred(ctx: *@This(), _: []const u8, value: []const u8) bool {
                const copy = ctx.allocator.dupe(u8, value);
                ctx.result = copy;
                // Keep the entry when its value could not be copied.
                return if (copy) |_| true else |_| false;
            }
        };
        var ctx: Ctx = .{ .allocator = allocator };
        _ = try self.removeIf(key, &ctx, Ctx.pred);
        const result = ctx.result orelse return null; // the key was absent
        return try result; // removed, or kept because the copy failed
    }

    /// Removes `key`, copying its value into `buf`; returns the filled part of
    /// `buf`, or null when absent. `error.BufferTooSmall` when the value does
    /// not fit (the entry stays in place).
    pub fn removeInto(self: Map, key: []const u8, buf: []u8) Error!?[]u8 {
        var n: usize = 0;
        const status = c.dm_remove(self.handle, ptr(key), key.len, mutPtr(buf), buf.len, &n);
        return switch (try check(status)) {
            c.DM_OK => buf[0..n],
            c.DM_NOT_FOUND => null,
            c.DM_BUFFER_TOO_SMALL => error.BufferTooSmall,
            else => error.Unexpected,
        };
    }

    /// Removes `key`, discarding its value. Returns true when it was present.
    pub fn delete(self: Map, key: []const u8) Error!bool {
        return foundStatus(try check(c.dm_remove(self.handle, ptr(key), key.len, null, 0, null)));
    }

    /// Removes `key` if `pred(context, key, value)` returns true; check and
    /// removal are one atomic step (the predicate runs under the shard's write
    /// lock). Returns true when the entry was removed.
    pub fn removeIf(
        self: Map,
        key: []const u8,
        context: anytype,
        comptime pred: fn (@TypeOf(context), key: []const u8, value: []const u8) bool,
    ) Error!bool {
        const status = c.dm_remove_if(self.handle, ptr(key), key.len, visitTrampoline(@TypeOf(context), pred), ctxPtr(&context));
        return switch (try check(status)) {
            c.DM_OK => true,
            c.DM_NOT_FOUND, c.DM_MISMATCH => false,
            else => error.Unexpected,
        };
    }

    /// Removes every key in `keys` (in batches of `batch_size`); returns how
    /// many were present.
    pub fn deleteMany(self: Map, keys: []const []const u8) Error!usize {
        var key_buf: [batch_size]c.dm_slice = undefined;
        var total: usize = 0;
        var i: usize = 0;
        while (i < keys.len) {
            const n = @min(batch_size, keys.len - i);
            for (0..n) |j| key_buf[j] = slice(keys[i + j]);
            var removed: usize = 0;
            _ = try check(c.dm_remove_many(self.handle, &key_buf, n, &removed));
            total += removed;
            i += n;
        }
        return total;
    }

    /// Removes every entry, one shard at a time (entries inserted concurrently
    /// may survive). Keeps the allocated capacity.
    pub fn clear(self: Map) Error!void {
        _ = try check(c.dm_clear(self.handle));
    }

    /// Releases unused capacity, one shard at a time.
    pub fn shrinkToFit(self: Map) Error!void {
        _ = try check(c.dm_shrink_to_fit(self.handle));
    }

    // ---------------------------------------------------------------- atomics

    /// Adds `delta` to the counter at `key` and returns the new value. A
    /// counter is an 8-byte little-endian i64 value; an absent key counts as
    /// 0 and is created. Overflow wraps. Concurrent adds never lose an update.
    /// `error.NotACounter` when the value is not 8 bytes (nothing changed).
    pub fn add(self: Map, key: []const u8, delta: i64) Error!i64 {
        var result: i64 = 0;
        const status = c.dm_add_i64(self.handle, ptr(key), key.len, delta, &result);
        if (status == c.DM_ERR_INVALID) return error.NotACounter;
        _ = try check(status);
        return result;
    }

    /// The counter stored at `key` (see `add`), or null when absent.
    /// `error.NotACounter` when the value is not 8 bytes.
    pub fn counter(self: Map, key: []const u8) Error!?i64 {
        var buf: [8]u8 = undefined;
        const found = self.getInto(key, &buf) catch |err| switch (err) {
            error.BufferTooSmall => return error.NotACounter,
            else => |e| return e,
        };
        const value = found orelse return null;
        if (value.len != 8) return error.NotACounter;
        return std.mem.readInt(i64, &buf, .little);
    }

    // ---------------------------------------------------------------- time-to-live

    /// Like `put`, and the entry expires `ttl_ms` milliseconds from now
    /// (0: never). Replacing an entry replaces its TTL too.
    pub fn putTtl(self: Map, key: []const u8, value: []const u8, ttl_ms: u64) Error!void {
        _ = try self.insertTtl(key, value, ttl_ms);
    }

    /// Like `insert` (true when a value was replaced), with a TTL as `putTtl`.
    pub fn insertTtl(self: Map, key: []const u8, value: []const u8, ttl_ms: u64) Error!bool {
        const status = c.dm_insert_ttl(self.handle, ptr(key), key.len, ptr(value), value.len, ttl_ms);
        return switch (try check(status)) {
            c.DM_OK => false,
            c.DM_REPLACED => true,
            else => error.Unexpected,
        };
    }

    /// Like `tryInsert`; a newly inserted entry expires `ttl_ms` milliseconds
    /// from now (0: never). An existing live entry is untouched.
    pub fn tryInsertTtl(self: Map, key: []const u8, value: []const u8, ttl_ms: u64) Error!bool {
        const status = c.dm_try_insert_ttl(self.handle, ptr(key), key.len, ptr(value), value.len, ttl_ms);
        return switch (try check(status)) {
            c.DM_OK => true,
            c.DM_EXISTS => false,
            else => error.Unexpected,
        };
    }

    /// Like `add`; a counter created by this call (absent or expired before)
    /// expires `ttl_ms` milliseconds from now (0: never), and later adds keep
    /// that deadline. One call per request is a fixed-window rate limiter:
    /// the result is the count in the current window.
    pub fn addTtl(self: Map, key: []const u8, delta: i64, ttl_ms: u64) Error!i64 {
        var result: i64 = 0;
        const status = c.dm_add_i64_ttl(self.handle, ptr(key), key.len, delta, ttl_ms, &result);
        if (status == c.DM_ERR_INVALID) return error.NotACounter;
        _ = try check(status);
        return result;
    }

    /// Sets the TTL of an existing entry to `ttl_ms` from now; 0 removes its
    /// TTL (it never expires). Returns false when the key is absent or expired.
    pub fn expire(self: Map, key: []const u8, ttl_ms: u64) Error!bool {
        return foundStatus(try check(c.dm_expire(self.handle, ptr(key), key.len, ttl_ms)));
    }

    /// Pushes an existing entry's expiry to `ttl_ms` (> 0) from now: a sliding
    /// timeout, e.g. for a session on each request. Returns false when the key
    /// is absent or expired; `error.InvalidArgument` for `ttl_ms == 0`.
    pub fn touch(self: Map, key: []const u8, ttl_ms: u64) Error!bool {
        return foundStatus(try check(c.dm_touch(self.handle, ptr(key), key.len, ttl_ms)));
    }

    /// How long `key` has left, or null when it is absent or expired.
    pub fn ttl(self: Map, key: []const u8) Error!?Ttl {
        var ms: u64 = 0;
        return switch (try check(c.dm_ttl_remaining(self.handle, ptr(key), key.len, &ms))) {
            c.DM_OK => if (ms == c.DM_TTL_NONE) .never else .{ .ms = ms },
            c.DM_NOT_FOUND => null,
            else => error.Unexpected,
        };
    }

    /// Removes every expired entry, one shard at a time; returns how many.
    /// Reads never need it: call it now and then, or before `len` when an
    /// exact live count matters.
    pub fn purgeExpired(self: Map) Error!usize {
        var removed: usize = 0;
        _ = try check(c.dm_purge_expired(self.handle, &removed));
        return removed;
    }

    /// Sets a manual clock (`Options.manual_clock`) to `now_ms`; entries whose
    /// deadline is <= `now_ms` are expired from then on (moving it back makes
    /// entries not yet removed live again). `error.InvalidArgument` when the
    /// map follows real time. Takes no lock; allowed in callbacks.
    pub fn setClock(self: Map, now_ms: u64) Error!void {
        _ = try check(c.dm_clock_set(self.handle, now_ms));
    }

    /// The map's current time in milliseconds: the manual clock, or the
    /// monotonic clock since the library's first use. Takes no lock.
    pub fn clockNow(self: Map) u64 {
        return c.dm_clock_now(self.handle);
    }

    // ---------------------------------------------------------------- compare

    /// Replaces the value of `key` with `new` only if it currently equals
    /// `expected` byte for byte. The entry keeps its TTL.
    pub fn compareAndSwap(self: Map, key: []const u8, expected: []const u8, new: []const u8) Error!CasResult {
        const status = c.dm_compare_and_swap(self.handle, ptr(key), key.len, ptr(expected), expected.len, ptr(new), new.len);
        return casResult(try check(status));
    }

    /// Removes `key` only if its value equals `expected`.
    pub fn compareAndRemove(self: Map, key: []const u8, expected: []const u8) Error!CasResult {
        const status = c.dm_compare_and_remove(self.handle, ptr(key), key.len, ptr(expected), expected.len);
        return casResult(try check(status));
    }

    /// Runs `f(context, entry)` on the entry for `key` under the shard's write
    /// lock; whatever `f` does through `entry` (`set`, `remove`, writing
    /// `valueMut()`) is applied as one atomic step. The general form of
    /// or_insert, or_insert_with, and_modify, or_default and alter.
    ///
    /// `f` is `fn (@TypeOf(context), *Entry) R`, and `update` returns `R`:
    /// `void`, a value (e.g. `bool`), or an error union, whose errors are
    /// added to `Error`. When `f` fails, changes it made before failing stay
    /// applied. `f` must not use this map (`error.Reentrant`).
    pub fn update(self: Map, key: []const u8, context: anytype, comptime f: anytype) UpdateResult(@TypeOf(context), @TypeOf(f)) {
        const Context = @TypeOf(context);
        const Ret = @typeInfo(@TypeOf(f)).@"fn".return_type.?;
        const State = struct {
            context: Context,
            result: Ret = undefined,
            called: bool = false,
        };
        const Tramp = struct {
            fn call(raw_entry: ?*c.dm_entry, raw: ?*anyopaque) callconv(.c) void {
                const state: *State = @ptrCast(@alignCast(raw.?));
                var entry: Entry = .{ .raw = raw_entry.? };
                state.result = f(state.context, &entry);
                state.called = true;
            }
        };
        var state: State = .{ .context = context };
        _ = try check(c.dm_entry_update(self.handle, ptr(key), key.len, Tramp.call, &state));
        if (!state.called) return error.Unexpected;
        return state.result;
    }

    // ---------------------------------------------------------------- whole map

    /// Number of entries stored (a moment's count; others may change it
    /// concurrently), including expired entries not yet removed (see
    /// `purgeExpired`).
    pub fn len(self: Map) Error!usize {
        const n = c.dm_len(self.handle);
        // No map holds SIZE_MAX entries: the library's answer from inside a callback.
        if (n == std.math.maxInt(usize)) return error.Reentrant;
        return n;
    }

    /// True when the map has no entries (at that moment).
    pub fn isEmpty(self: Map) Error!bool {
        return (try self.len()) == 0;
    }

    /// Entries the map can hold without growing.
    pub fn capacity(self: Map) Error!usize {
        const n = c.dm_capacity(self.handle);
        if (n == std.math.maxInt(usize)) return error.Reentrant;
        return n;
    }

    /// Calls `f(context, key, value)` for every entry, one shard at a time
    /// under its read lock, until `f` returns false. Every entry present
    /// throughout is seen exactly once. `f` must not use this map
    /// (`error.Reentrant`); use `iterator()` for that.
    pub fn forEach(
        self: Map,
        context: anytype,
        comptime f: fn (@TypeOf(context), key: []const u8, value: []const u8) bool,
    ) Error!void {
        _ = try check(c.dm_for_each(self.handle, visitTrampoline(@TypeOf(context), f), ctxPtr(&context)));
    }

    /// Like `forEach` under each shard's write lock; `f` may change the value
    /// bytes in place (not their length).
    pub fn forEachMut(
        self: Map,
        context: anytype,
        comptime f: fn (@TypeOf(context), key: []const u8, value: []u8) bool,
    ) Error!void {
        const Context = @TypeOf(context);
        const Tramp = struct {
            fn call(k: [*c]const u8, k_len: usize, v: [*c]u8, v_len: usize, raw: ?*anyopaque) callconv(.c) bool {
                const value: []u8 = if (v_len == 0) &.{} else v[0..v_len];
                return f(ctxFrom(Context, raw), bytes(k, k_len), value);
            }
        };
        _ = try check(c.dm_for_each_mut(self.handle, Tramp.call, ctxPtr(&context)));
    }

    /// Keeps only the entries for which `keep(context, key, value)` returns
    /// true, one shard at a time under its write lock.
    pub fn retain(
        self: Map,
        context: anytype,
        comptime keep: fn (@TypeOf(context), key: []const u8, value: []const u8) bool,
    ) Error!void {
        _ = try check(c.dm_retain_cb(self.handle, visitTrampoline(@TypeOf(context), keep), ctxPtr(&context)));
    }

    /// A cursor over the map that holds no lock between calls, so the loop
    /// body may do anything, including using this map. Every entry present
    /// for the whole iteration is returned exactly once; entries added or
    /// removed meanwhile may or may not appear. Release it with `deinit`; use
    /// it from one thread at a time.
    ///
    /// ```zig
    /// var it = try map.iterator();
    /// defer it.deinit();
    /// while (try it.next()) |kv| { _ = kv.key; _ = kv.value; }
    /// ```
    pub fn iterator(self: Map) Error!Iterator {
        if (c.dm_iter_new(self.handle)) |raw| return .{ .raw = raw };
        // NULL means reentrant use or exhausted memory; dm_len tells them apart.
        return if (c.dm_len(self.handle) == std.math.maxInt(usize)) error.Reentrant else error.OutOfMemory;
    }

    /// A snapshot of size and layout (each shard counted atomically).
    pub fn stats(self: Map) Error!Stats {
        var s: c.dm_stats = undefined;
        _ = try check(c.dm_stats_get(self.handle, &s));
        return .{
            .len = s.len,
            .capacity = s.capacity,
            .shards = s.shards,
            .min_shard_len = s.min_shard_len,
            .max_shard_len = s.max_shard_len,
            .key_bytes = s.key_bytes,
            .value_bytes = s.value_bytes,
        };
    }

    /// Number of shards (fixed at creation). Takes no lock; works in callbacks.
    pub fn shardCount(self: Map) usize {
        return c.dm_shard_count(self.handle);
    }

    /// Number of entries in shard `shard`; `error.InvalidArgument` when
    /// `shard >= shardCount()`.
    pub fn shardLen(self: Map, shard: usize) Error!usize {
        var n: usize = 0;
        _ = try check(c.dm_shard_len(self.handle, shard, &n));
        return n;
    }
};

/// The entry an `update` callback works on; valid only during that callback.
pub const Entry = struct {
    raw: *c.dm_entry,

    /// The entry's key.
    pub fn key(self: *const Entry) []const u8 {
        var n: usize = 0;
        const p = c.dm_entry_key(self.raw, &n);
        return bytes(p, n);
    }

    /// The current value, or null when vacant. Valid until the callback
    /// returns or changes the entry (`set`, `remove`).
    pub fn value(self: *const Entry) ?[]const u8 {
        var n: usize = 0;
        const p = c.dm_entry_value(self.raw, &n);
        if (p == null) return null;
        return bytes(p, n);
    }

    /// The current value, writable in place (its length is fixed; use `set`
    /// to change it), or null when vacant.
    pub fn valueMut(self: *Entry) ?[]u8 {
        var n: usize = 0;
        const p = c.dm_entry_value_mut(self.raw, &n);
        if (p == null) return null;
        return if (n == 0) &.{} else p[0..n];
    }

    /// Sets the value (inserting the key if vacant), copying `new_value` now;
    /// an existing entry keeps its TTL. Slices from earlier `value`/`valueMut`
    /// calls become invalid. `error.OutOfMemory`, and `error.Full` (a vacant
    /// entry of a full bounded map), leave the entry unchanged.
    pub fn set(self: *Entry, new_value: []const u8) Error!void {
        _ = try check(c.dm_entry_set(self.raw, ptr(new_value), new_value.len));
    }

    /// Removes the entry (applied when the callback returns); does nothing
    /// when it is vacant.
    pub fn remove(self: *Entry) void {
        // DM_NOT_FOUND (already vacant) is fine; errors are impossible for a live entry.
        _ = c.dm_entry_remove(self.raw);
    }

    /// True when the entry holds a value (after this callback's own changes).
    pub fn isOccupied(self: *const Entry) bool {
        return c.dm_entry_occupied(self.raw);
    }
};

/// A lock-free cursor over a map (`Map.iterator`).
pub const Iterator = struct {
    raw: *c.dm_iter,

    /// The next entry, or null at the end (and after it). Its slices stay
    /// valid until the next `next()` or `deinit()`. `error.OutOfMemory` means
    /// the next shard could not be copied; calling again may succeed.
    pub fn next(self: *Iterator) Error!?KV {
        var k: [*c]const u8 = null;
        var k_len: usize = 0;
        var v: [*c]const u8 = null;
        var v_len: usize = 0;
        return switch (try check(c.dm_iter_next(self.raw, &k, &k_len, &v, &v_len))) {
            c.DM_OK => .{ .key = bytes(k, k_len), .value = bytes(v, v_len) },
            c.DM_NOT_FOUND => null,
            else => error.Unexpected,
        };
    }

    /// Frees the cursor and drops its reference to the map.
    pub fn deinit(self: *Iterator) void {
        c.dm_iter_free(self.raw);
        self.* = undefined;
    }
};

/// The return type of `Map.update` for a callback of type `F`.
pub fn UpdateResult(comptime Context: type, comptime F: type) type {
    const info = switch (@typeInfo(F)) {
        .@"fn" => |info| info,
        else => @compileError("update: f must be a function, got " ++ @typeName(F)),
    };
    if (info.params.len != 2 or info.params[0].type != Context or info.params[1].type != *Entry)
        @compileError("update: f must be fn (" ++ @typeName(Context) ++ ", *dashmap.Entry) R, got " ++ @typeName(F));
    const R = info.return_type orelse @compileError("update: f must not be generic");
    return switch (@typeInfo(R)) {
        .error_union => |eu| (Error || eu.error_set)!eu.payload,
        else => Error!R,
    };
}

// -------------------------------------------------------------------- helpers

/// Maps a status to Zig: errors become `Error`, outcomes (>= 0) are returned.
fn check(status: c.dm_status) Error!c.dm_status {
    if (status >= 0) return status;
    return switch (status) {
        c.DM_ERR_NULL => error.NullPointer,
        c.DM_ERR_INVALID => error.InvalidArgument,
        c.DM_ERR_NO_MEMORY => error.OutOfMemory,
        c.DM_ERR_REENTRANT => error.Reentrant,
        c.DM_ERR_PANIC => error.Panic,
        c.DM_ERR_FULL => error.Full,
        else => error.Unexpected,
    };
}

/// DM_OK / DM_NOT_FOUND as a bool.
fn foundStatus(status: c.dm_status) Error!bool {
    return switch (status) {
        c.DM_OK => true,
        c.DM_NOT_FOUND => false,
        else => error.Unexpected,
    };
}

fn casResult(status: c.dm_status) Error!CasResult {
    return switch (status) {
        c.DM_OK => .success,
        c.DM_MISMATCH => .mismatch,
        c.DM_NOT_FOUND => .not_found,
        else => error.Unexpected,
    };
}

/// A slice's pointer for C: NULL for an empty slice, whose own pointer may be
/// undefined in Zig. (NULL, 0) is a valid empty string for the library.
fn ptr(s: []const u8) ?[*]const u8 {
    return if (s.len == 0) null else s.ptr;
}

fn mutPtr(s: []u8) ?[*]u8 {
    return if (s.len == 0) null else s.ptr;
}

fn slice(s: []const u8) c.dm_slice {
    return .{ .ptr = ptr(s), .len = s.len };
}

/// Bytes from C: `p` may be NULL when `n` is 0.
fn bytes(p: [*c]const u8, n: usize) []const u8 {
    return if (n == 0) "" else p[0..n];
}

/// The C context pointer for a callback's `context` argument. Zero-sized
/// contexts (`{}`) have no address worth passing.
fn ctxPtr(context: anytype) ?*anyopaque {
    const Context = @typeInfo(@TypeOf(context)).pointer.child;
    if (@sizeOf(Context) == 0) return null;
    return @ptrCast(@constCast(context));
}

/// The callback's `context` back from the C context pointer.
fn ctxFrom(comptime Context: type, raw: ?*anyopaque) Context {
    if (@sizeOf(Context) == 0) return undefined;
    const p: *const Context = @ptrCast(@alignCast(raw.?));
    return p.*;
}

/// A `dm_visit_fn` that calls `f(context.*, key, value)`; the C context
/// pointer points at the caller's `context` argument.
fn visitTrampoline(
    comptime Context: type,
    comptime f: fn (Context, []const u8, []const u8) bool,
) c.dm_visit_fn {
    return struct {
        fn call(k: [*c]const u8, k_len: usize, v: [*c]const u8, v_len: usize, raw: ?*anyopaque) callconv(.c) bool {
            return f(ctxFrom(Context, raw), bytes(k, k_len), bytes(v, v_len));
        }
    }.call;
}

test "refAllDecls" {
    std.testing.refAllDecls(@This());
    std.testing.refAllDecls(Map);
    std.testing.refAllDecls(Entry);
    std.testing.refAllDecls(Iterator);
}

test "header and library versions agree" {
    var buf: [32]u8 = undefined;
    const v = header_version;
    const expected = try std.fmt.bufPrint(&buf, "{d}.{d}.{d}", .{ v.major, v.minor, v.patch });
    try std.testing.expectEqualStrings(c.DM_VERSION_STRING, expected);
    try std.testing.expectEqualStrings(c.DM_VERSION_STRING, version());
    try std.testing.expectEqual(@as(u32, c.DM_VERSION_NUMBER), versionNumber());
}

test "check maps every status" {
    try std.testing.expectEqual(@as(c.dm_status, c.DM_OK), try check(c.DM_OK));
    try std.testing.expectEqual(@as(c.dm_status, c.DM_STOPPED), try check(c.DM_STOPPED));
    try std.testing.expectError(error.NullPointer, check(c.DM_ERR_NULL));
    try std.testing.expectError(error.InvalidArgument, check(c.DM_ERR_INVALID));
    try std.testing.expectError(error.OutOfMemory, check(c.DM_ERR_NO_MEMORY));
    try std.testing.expectError(error.Reentrant, check(c.DM_ERR_REENTRANT));
    try std.testing.expectError(error.Panic, check(c.DM_ERR_PANIC));
    try std.testing.expectError(error.Full, check(c.DM_ERR_FULL));
    try std.testing.expectError(error.Unexpected, check(-99));
    inline for (@typeInfo(Error).error_set.?) |e| {
        try std.testing.expect(describe(@field(Error, e.name)).len > 0);
    }
}
