//! Tests of the public API, written the way a user of the `dashmap` module
//! would: every function, a model test against std.StringHashMap, threads,
//! iteration under concurrent writes, and the error mapping.
const std = @import("std");
const dashmap = @import("dashmap");
const testing = std.testing;
const Map = dashmap.Map;
const Entry = dashmap.Entry;

/// Deterministic maps make failures reproducible.
fn testMap() !Map {
    return Map.init(.{ .shards = 8, .hasher = .fast, .seed = 42 });
}

test "refAllDecls" {
    testing.refAllDecls(dashmap);
}

test "version" {
    try testing.expectEqualStrings(dashmap.c.DM_VERSION_STRING, dashmap.version());
    try testing.expectEqual(dashmap.header_version.major * 10000 + dashmap.header_version.minor * 100 + dashmap.header_version.patch, dashmap.versionNumber());
    try testing.expect(dashmap.describe(error.Reentrant).len > 0);
}

test "init with options, deinit, ref" {
    var map = try Map.init(.{ .capacity = 1000, .shards = 16, .hasher = .siphash, .seed = 7 });
    try testing.expectEqual(@as(usize, 16), map.shardCount());
    try testing.expect(try map.capacity() >= 1000);
    try map.put("k", "v");

    // A second handle keeps the map alive after the first is released.
    var other = map.ref();
    map.deinit();
    defer other.deinit();
    const v = (try other.get(testing.allocator, "k")).?;
    defer testing.allocator.free(v);
    try testing.expectEqualStrings("v", v);

    var defaults = try Map.init(.{});
    defer defaults.deinit();
    try testing.expect(defaults.shardCount() >= 2);
    try testing.expect(std.math.isPowerOfTwo(defaults.shardCount()));
    try testing.expect(try defaults.isEmpty());
}

test "invalid options give error.InvalidArgument" {
    try testing.expectError(error.InvalidArgument, Map.init(.{ .shards = 3 }));
    try testing.expectError(error.InvalidArgument, Map.init(.{ .shards = 1 }));
    try testing.expectError(error.InvalidArgument, Map.init(.{ .shards = dashmap.max_shards * 2 }));
    var map = try Map.init(.{ .shards = dashmap.max_shards });
    defer map.deinit();
    try testing.expectEqual(dashmap.max_shards, map.shardCount());
}

test "put, insert, get, getInto, valueLen, contains" {
    var map = try testMap();
    defer map.deinit();
    const a = testing.allocator;

    try testing.expect(!try map.insert("alpha", "1"));
    try testing.expect(try map.insert("alpha", "one"));
    try map.put("beta", "two");

    const v = (try map.get(a, "alpha")).?;
    defer a.free(v);
    try testing.expectEqualStrings("one", v);
    try testing.expectEqual(@as(?[]u8, null), try map.get(a, "missing"));

    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("two", (try map.getInto("beta", &buf)).?);
    try testing.expectEqual(@as(?[]u8, null), try map.getInto("missing", &buf));
    var tiny: [2]u8 = undefined;
    try testing.expectError(error.BufferTooSmall, map.getInto("beta", &tiny));
    try testing.expectEqual(@as(?usize, 3), try map.valueLen("beta"));
    try testing.expectEqual(@as(?usize, null), try map.valueLen("missing"));

    try testing.expect(try map.contains("alpha"));
    try testing.expect(!try map.contains("gamma"));
    try testing.expectEqual(@as(usize, 2), try map.len());
}

test "empty keys and values" {
    var map = try testMap();
    defer map.deinit();
    const a = testing.allocator;

    try map.put("", "");
    try testing.expect(try map.contains(""));
    try testing.expectEqual(@as(?usize, 0), try map.valueLen(""));
    const v = (try map.get(a, "")).?;
    defer a.free(v);
    try testing.expectEqual(@as(usize, 0), v.len);
    var no_room: [0]u8 = .{};
    try testing.expectEqual(@as(usize, 0), (try map.getInto("", &no_room)).?.len);

    var it = try map.iterator();
    defer it.deinit();
    const kv = (try it.next()).?;
    try testing.expectEqualStrings("", kv.key);
    try testing.expectEqualStrings("", kv.value);
    try testing.expectEqual(@as(?dashmap.KV, null), try it.next());
    try testing.expect(try map.delete(""));
}

test "getWith reads in place" {
    var map = try testMap();
    defer map.deinit();
    try map.put("k", "hello");
    var seen: usize = 0;
    const Reader = struct {
        fn read(count: *usize, value: []const u8) void {
            count.* = value.len;
        }
    };
    try testing.expect(try map.getWith("k", &seen, Reader.read));
    try testing.expectEqual(@as(usize, 5), seen);
    try testing.expect(!try map.getWith("nope", &seen, Reader.read));
}

test "remove, removeInto, delete, removeIf, deleteMany, clear, shrinkToFit" {
    var map = try testMap();
    defer map.deinit();
    const a = testing.allocator;

    try map.put("a", "apple");
    const removed = (try map.remove(a, "a")).?;
    defer a.free(removed);
    try testing.expectEqualStrings("apple", removed);
    try testing.expectEqual(@as(?[]u8, null), try map.remove(a, "a"));

    try map.put("b", "banana");
    var small: [3]u8 = undefined;
    try testing.expectError(error.BufferTooSmall, map.removeInto("b", &small));
    try testing.expect(try map.contains("b")); // left in place
    var buf: [16]u8 = undefined;
    try testing.expectEqualStrings("banana", (try map.removeInto("b", &buf)).?);
    try testing.expectEqual(@as(?[]u8, null), try map.removeInto("b", &buf));

    try map.put("c", "cherry");
    try testing.expect(try map.delete("c"));
    try testing.expect(!try map.delete("c"));

    try map.put("d", "old");
    const IsOld = struct {
        fn pred(_: void, key: []const u8, value: []const u8) bool {
            std.debug.assert(std.mem.eql(u8, key, "d"));
            return std.mem.eql(u8, value, "old");
        }
    };
    try testing.expect(try map.removeIf("d", {}, IsOld.pred));
    try map.put("d", "new");
    try testing.expect(!try map.removeIf("d", {}, IsOld.pred));
    try testing.expect(!try map.removeIf("zz", {}, IsOld.pred));

    try map.putMany(&.{ "x", "y", "z" }, &.{ "1", "2", "3" });
    try testing.expectEqual(@as(usize, 2), try map.deleteMany(&.{ "x", "z", "missing" }));
    try testing.expectEqual(@as(usize, 2), try map.len()); // d, y

    try map.clear();
    try testing.expect(try map.isEmpty());
    try map.shrinkToFit();
}

test "putMany and deleteMany across several batches" {
    var map = try testMap();
    defer map.deinit();
    const n = Map.batch_size * 3 + 5;
    var key_store: [n][8]u8 = undefined;
    var keys: [n][]const u8 = undefined;
    var values: [n][]const u8 = undefined;
    for (0..n) |i| {
        keys[i] = try std.fmt.bufPrint(&key_store[i], "k{d}", .{i});
        values[i] = keys[i][1..];
    }
    try map.putMany(&keys, &values);
    try testing.expectEqual(@as(usize, n), try map.len());
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("300", (try map.getInto("k300", &buf)).?);
    try testing.expectEqual(@as(usize, n), try map.deleteMany(&keys));
    try testing.expect(try map.isEmpty());
}

test "getMany across several batches, with absent keys and values of many sizes" {
    var map = try testMap();
    defer map.deinit();
    const n = Map.batch_size * 2 + 7;
    var key_store: [n][8]u8 = undefined;
    var keys: [n][]const u8 = undefined;
    const long = "v" ** 300;
    for (0..n) |i| {
        keys[i] = try std.fmt.bufPrint(&key_store[i], "k{d}", .{i});
        // Every third key absent; values from 0 to 299 bytes.
        if (i % 3 != 0) try map.put(keys[i], long[0 .. i % 300]);
    }
    var got = try map.getMany(testing.allocator, &keys);
    defer got.deinit(testing.allocator);
    try testing.expectEqual(@as(usize, n), got.values.len);
    var present: usize = 0;
    for (got.values, 0..) |value, i| {
        if (i % 3 == 0) {
            try testing.expect(value == null);
        } else {
            try testing.expectEqualStrings(long[0 .. i % 300], value.?);
            present += 1;
        }
    }
    try testing.expectEqual(@as(usize, n - (n + 2) / 3), present);
    // No keys: nothing allocated that deinit cannot free.
    var none = try map.getMany(testing.allocator, &.{});
    defer none.deinit(testing.allocator);
    try testing.expectEqual(@as(usize, 0), none.values.len);
}

test "tryInsert, swap, getOrInsert" {
    var map = try testMap();
    defer map.deinit();
    const a = testing.allocator;

    try testing.expect(try map.tryInsert("k", "first"));
    try testing.expect(!try map.tryInsert("k", "second"));

    try testing.expectEqual(@as(?[]u8, null), try map.swap(a, "new", "v1"));
    const old = (try map.swap(a, "new", "v2")).?;
    defer a.free(old);
    try testing.expectEqualStrings("v1", old);

    const got = try map.getOrInsert(a, "k", "ignored");
    defer a.free(got.value);
    try testing.expect(got.found_existing);
    try testing.expectEqualStrings("first", got.value);
    const ins = try map.getOrInsert(a, "fresh", "value");
    defer a.free(ins.value);
    try testing.expect(!ins.found_existing);
    try testing.expectEqualStrings("value", ins.value);
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("value", (try map.getInto("fresh", &buf)).?);
}

test "allocation failure leaves the map unchanged" {
    var map = try testMap();
    defer map.deinit();
    var failing = testing.FailingAllocator.init(testing.allocator, .{ .fail_index = 0 });
    const fa = failing.allocator();
    try map.put("k", "value");
    try testing.expectError(error.OutOfMemory, map.get(fa, "k"));
    try testing.expectError(error.OutOfMemory, map.remove(fa, "k"));
    try testing.expectError(error.OutOfMemory, map.swap(fa, "k", "other"));
    try testing.expectError(error.OutOfMemory, map.getOrInsert(fa, "absent", "v"));
    try testing.expect(!try map.contains("absent"));
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("value", (try map.getInto("k", &buf)).?);
}

test "add, counter, NotACounter" {
    var map = try testMap();
    defer map.deinit();
    try testing.expectEqual(@as(i64, 5), try map.add("hits", 5));
    try testing.expectEqual(@as(i64, 3), try map.add("hits", -2));
    try testing.expectEqual(@as(?i64, 3), try map.counter("hits"));
    try testing.expectEqual(@as(?i64, null), try map.counter("nothing"));
    // Overflow wraps.
    try testing.expectEqual(std.math.minInt(i64), try map.add("wrap", std.math.maxInt(i64)) +% 1);
    try testing.expectEqual(std.math.minInt(i64), try map.add("wrap", 1));

    try map.put("text", "not a number");
    try testing.expectError(error.NotACounter, map.add("text", 1));
    try testing.expectError(error.NotACounter, map.counter("text"));
    try map.put("short", "1234567");
    try testing.expectError(error.NotACounter, map.add("short", 1));
    try testing.expectError(error.NotACounter, map.counter("short"));
    // Any 8-byte value is a counter: little-endian i64.
    try map.put("eight", &std.mem.toBytes(std.mem.nativeToLittle(i64, 41)));
    try testing.expectEqual(@as(i64, 42), try map.add("eight", 1));
}

test "time-to-live on a manual clock" {
    var map = try Map.init(.{ .manual_clock = true, .shards = 4 });
    defer map.deinit();
    const Ttl = dashmap.Ttl;
    try testing.expectEqual(@as(u64, 0), map.clockNow());

    try map.putTtl("a", "1", 100);
    try testing.expect(!try map.insertTtl("b", "2", 0)); // 0: no TTL
    try testing.expect(try map.insertTtl("b", "2", 0));
    try testing.expectEqual(Ttl{ .ms = 100 }, (try map.ttl("a")).?);
    try testing.expectEqual(Ttl.never, (try map.ttl("b")).?);
    try testing.expectEqual(@as(?Ttl, null), try map.ttl("missing"));

    try map.setClock(60);
    try testing.expectEqual(@as(u64, 60), map.clockNow());
    try testing.expectEqual(Ttl{ .ms = 40 }, (try map.ttl("a")).?);
    try testing.expect(try map.touch("a", 100)); // now due at 160
    try map.setClock(159);
    try testing.expect(try map.contains("a"));
    try map.setClock(160); // expired at its deadline, not before
    try testing.expect(!try map.contains("a"));
    try testing.expectEqual(@as(?[]u8, null), try map.get(testing.allocator, "a"));
    try testing.expectEqual(@as(usize, 2), try map.len()); // still stored...
    try testing.expectEqual(@as(usize, 1), try map.purgeExpired()); // ...until swept
    try testing.expectEqual(@as(usize, 1), try map.len());
    try testing.expectEqual(@as(usize, 0), try map.purgeExpired());
    try testing.expect(!try map.touch("a", 100));
    try testing.expect(!try map.expire("a", 100));

    // tryInsertTtl, and expire(key, 0) clears a TTL.
    try testing.expect(try map.tryInsertTtl("c", "3", 10));
    try testing.expect(!try map.tryInsertTtl("c", "x", 10));
    try testing.expect(try map.expire("c", 0));
    try testing.expectEqual(Ttl.never, (try map.ttl("c")).?);
    try testing.expectError(error.InvalidArgument, map.touch("c", 0));
    try testing.expectError(error.NotACounter, map.addTtl("c", 1, 10));

    // Whole-entry writes drop a TTL; in-place updates keep it.
    try map.putTtl("d", "v", 50);
    try map.put("d", "w");
    try testing.expectEqual(Ttl.never, (try map.ttl("d")).?);
    try map.putTtl("d", "v", 50);
    const old = (try map.swap(testing.allocator, "d", "w")).?;
    testing.allocator.free(old);
    try testing.expectEqual(Ttl.never, (try map.ttl("d")).?);
    try map.putTtl("d", "v", 50);
    try testing.expectEqual(dashmap.CasResult.success, try map.compareAndSwap("d", "v", "x"));
    const Keep = struct {
        fn f(_: void, e: *Entry) dashmap.Error!void {
            try e.set("y");
        }
    };
    try map.update("d", {}, Keep.f);
    try testing.expectEqual(Ttl{ .ms = 50 }, (try map.ttl("d")).?);

    // addTtl: a fixed window that later adds do not extend.
    try testing.expectEqual(@as(i64, 1), try map.addTtl("win", 1, 100)); // due at 260
    try map.setClock(200);
    try testing.expectEqual(@as(i64, 2), try map.addTtl("win", 1, 100));
    try testing.expectEqual(@as(i64, 3), try map.add("win", 1));
    try testing.expectEqual(Ttl{ .ms = 60 }, (try map.ttl("win")).?);
    try map.setClock(260);
    try testing.expectEqual(@as(?i64, null), try map.counter("win"));
    try testing.expectEqual(@as(i64, 1), try map.addTtl("win", 1, 100)); // a new window
    try testing.expectEqual(Ttl{ .ms = 100 }, (try map.ttl("win")).?);
}

test "the real-time clock" {
    var map = try testMap();
    defer map.deinit();
    try testing.expectError(error.InvalidArgument, map.setClock(5));
    const t0 = map.clockNow();
    try map.putTtl("k", "v", 60_000);
    try testing.expect(map.clockNow() >= t0);
    const left = (try map.ttl("k")).?;
    try testing.expect(left.ms > 0 and left.ms <= 60_000);
}

test "max_entries: new keys beyond the bound give error.Full" {
    var map = try Map.init(.{ .max_entries = 3 });
    defer map.deinit();
    const a = testing.allocator;
    try map.putMany(&.{ "a", "b", "c" }, &.{ "1", "2", "3" });

    try testing.expectError(error.Full, map.put("d", "4"));
    try testing.expectError(error.Full, map.tryInsert("d", "4"));
    try testing.expectError(error.Full, map.add("d", 1));
    try testing.expectError(error.Full, map.putTtl("d", "4", 10));
    try testing.expectError(error.Full, map.swap(a, "d", "4"));
    try testing.expectError(error.Full, map.getOrInsert(a, "d", "4"));
    try testing.expectError(error.Full, map.putMany(&.{"d"}, &.{"4"}));
    const Set = struct {
        fn f(_: void, e: *Entry) dashmap.Error!void {
            try e.set("4");
        }
    };
    try testing.expectError(error.Full, map.update("d", {}, Set.f));
    try testing.expect(!try map.contains("d"));
    try testing.expectEqual(@as(usize, 3), try map.len());

    // Existing keys can always be updated.
    try map.put("a", "one");
    try map.update("b", {}, Set.f);
    const old = (try map.swap(a, "c", "three")).?;
    a.free(old);
    // Room again after a removal.
    try testing.expect(try map.delete("a"));
    try map.put("d", "4");
    try testing.expectEqualStrings("Full", @errorName(error.Full));
    try testing.expect(dashmap.describe(error.Full).len > 0);
}

test "compareAndSwap and compareAndRemove" {
    var map = try testMap();
    defer map.deinit();
    try map.put("k", "a");
    try testing.expectEqual(dashmap.CasResult.success, try map.compareAndSwap("k", "a", "b"));
    try testing.expectEqual(dashmap.CasResult.mismatch, try map.compareAndSwap("k", "a", "c"));
    try testing.expectEqual(dashmap.CasResult.not_found, try map.compareAndSwap("none", "a", "c"));
    try testing.expectEqual(dashmap.CasResult.mismatch, try map.compareAndRemove("k", "a"));
    try testing.expectEqual(dashmap.CasResult.success, try map.compareAndRemove("k", "b"));
    try testing.expectEqual(dashmap.CasResult.not_found, try map.compareAndRemove("k", "b"));
}

test "update: entry methods and return values" {
    var map = try testMap();
    defer map.deinit();

    // or_insert on a vacant entry, returning whether it was vacant.
    const Insert = struct {
        fn f(value: []const u8, e: *Entry) bool {
            std.debug.assert(std.mem.eql(u8, e.key(), "k"));
            if (e.isOccupied()) return false;
            std.debug.assert(e.value() == null);
            std.debug.assert(e.valueMut() == null);
            e.set(value) catch unreachable;
            std.debug.assert(e.isOccupied());
            return true;
        }
    };
    try testing.expect(try map.update("k", @as([]const u8, "abc"), Insert.f));
    try testing.expect(!try map.update("k", @as([]const u8, "xyz"), Insert.f));

    // and_modify in place through valueMut.
    const Upper = struct {
        fn f(_: void, e: *Entry) void {
            for (e.valueMut().?) |*ch| ch.* = std.ascii.toUpper(ch.*);
        }
    };
    try map.update("k", {}, Upper.f);
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("ABC", (try map.getInto("k", &buf)).?);

    // remove; remove on a vacant entry does nothing.
    const Remove = struct {
        fn f(_: void, e: *Entry) void {
            e.remove();
            e.remove();
            std.debug.assert(!e.isOccupied());
        }
    };
    try map.update("k", {}, Remove.f);
    try testing.expect(!try map.contains("k"));

    // An error union: the callback's errors join Error.
    const Fail = error{Rejected};
    const Check = struct {
        fn f(limit: usize, e: *Entry) (Fail || dashmap.Error)!usize {
            const v = e.value() orelse "";
            if (v.len >= limit) return error.Rejected;
            try e.set("0123456789"[0 .. v.len + 1]);
            return v.len + 1;
        }
    };
    try testing.expectEqual(@as(usize, 1), try map.update("n", @as(usize, 2), Check.f));
    try testing.expectEqual(@as(usize, 2), try map.update("n", @as(usize, 2), Check.f));
    try testing.expectError(error.Rejected, map.update("n", @as(usize, 2), Check.f));
    try testing.expectEqualStrings("01", (try map.getInto("n", &buf)).?);
}

test "forEach, forEachMut, retain, stats, shardLen" {
    var map = try testMap();
    defer map.deinit();
    for (0..100) |i| {
        var kb: [8]u8 = undefined;
        const key = try std.fmt.bufPrint(&kb, "{d}", .{i});
        try map.put(key, if (i % 2 == 0) "even" else "odd");
    }

    const Count = struct {
        n: usize = 0,
        stop_at: usize = std.math.maxInt(usize),
        fn visit(self: *@This(), _: []const u8, value: []const u8) bool {
            std.debug.assert(value.len == 3 or value.len == 4);
            self.n += 1;
            return self.n < self.stop_at;
        }
    };
    var all: Count = .{};
    try map.forEach(&all, Count.visit);
    try testing.expectEqual(@as(usize, 100), all.n);
    var some: Count = .{ .stop_at = 10 };
    try map.forEach(&some, Count.visit);
    try testing.expectEqual(@as(usize, 10), some.n);

    const Shout = struct {
        fn visit(_: void, _: []const u8, value: []u8) bool {
            for (value) |*ch| ch.* = std.ascii.toUpper(ch.*);
            return true;
        }
    };
    try map.forEachMut({}, Shout.visit);
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("EVEN", (try map.getInto("42", &buf)).?);

    const KeepEven = struct {
        fn keep(_: void, _: []const u8, value: []const u8) bool {
            return std.mem.eql(u8, value, "EVEN");
        }
    };
    try map.retain({}, KeepEven.keep);
    try testing.expectEqual(@as(usize, 50), try map.len());

    const s = try map.stats();
    try testing.expectEqual(@as(usize, 50), s.len);
    try testing.expectEqual(@as(usize, 8), s.shards);
    try testing.expect(s.capacity >= 50);
    try testing.expectEqual(@as(usize, 50 * 4), s.value_bytes);
    try testing.expect(s.min_shard_len <= s.max_shard_len);
    var total: usize = 0;
    for (0..map.shardCount()) |i| total += try map.shardLen(i);
    try testing.expectEqual(@as(usize, 50), total);
    try testing.expectError(error.InvalidArgument, map.shardLen(map.shardCount()));
}

test "iterator sees every entry once and allows using the map" {
    var map = try testMap();
    defer map.deinit();
    for (0..500) |i| {
        var kb: [8]u8 = undefined;
        try map.put(try std.fmt.bufPrint(&kb, "{d}", .{i}), "v");
    }
    var seen = try std.DynamicBitSet.initEmpty(testing.allocator, 500);
    defer seen.deinit();
    var it = try map.iterator();
    defer it.deinit();
    while (try it.next()) |kv| {
        const i = try std.fmt.parseInt(usize, kv.key, 10);
        try testing.expect(!seen.isSet(i));
        seen.set(i);
        try testing.expectEqualStrings("v", kv.value);
        _ = try map.add("visits", 0 + 1); // the loop body may use the map
        _ = try map.delete("visits");
    }
    try testing.expectEqual(@as(usize, 500), seen.count());
    try testing.expectEqual(@as(?dashmap.KV, null), try it.next()); // stays at the end
}

test "reentrant calls give error.Reentrant" {
    var map = try testMap();
    defer map.deinit();
    try map.put("k", "v");
    try map.put("n", "not a counter");

    const Inner = struct {
        fn f(m: Map, _: *Entry) anyerror!void {
            try testing.expectError(error.Reentrant, m.get(testing.allocator, "k"));
            try testing.expectError(error.Reentrant, m.put("x", "y"));
            try testing.expectError(error.Reentrant, m.len());
            try testing.expectError(error.Reentrant, m.isEmpty());
            try testing.expectError(error.Reentrant, m.contains("k"));
            try testing.expectError(error.Reentrant, m.iterator());
            try testing.expectError(error.Reentrant, m.stats());
            try testing.expectError(error.Reentrant, m.update("k", m, f));
            // What stays allowed inside a callback.
            try testing.expectEqual(@as(usize, 8), m.shardCount());
            var other = m.ref();
            other.deinit();
            // Other maps are fine.
            var second = try Map.init(.{});
            defer second.deinit();
            try second.put("a", "b");
            try testing.expectEqual(@as(usize, 1), try second.len());
        }
        fn visit(m: Map, _: []const u8, _: []const u8) bool {
            if (m.add("n", 1)) |_| unreachable else |err| std.debug.assert(err == error.Reentrant);
            return true;
        }
    };
    try map.update("k", map, Inner.f);
    try map.forEach(map, Inner.visit);
    try map.retain(map, Inner.visit);
    try testing.expectEqual(@as(usize, 2), try map.len());
}

test "model: random operations agree with std.StringHashMap" {
    const a = testing.allocator;
    var map = try testMap();
    defer map.deinit();
    var model = std.StringHashMap([]u8).init(a);
    defer {
        var mit = model.iterator();
        while (mit.next()) |e| {
            a.free(e.key_ptr.*);
            a.free(e.value_ptr.*);
        }
        model.deinit();
    }

    const Model = struct {
        fn set(m: *std.StringHashMap([]u8), alloc: std.mem.Allocator, key: []const u8, value: []const u8) !void {
            const gop = try m.getOrPut(key);
            if (gop.found_existing) {
                alloc.free(gop.value_ptr.*);
            } else {
                gop.key_ptr.* = try alloc.dupe(u8, key);
            }
            gop.value_ptr.* = try alloc.dupe(u8, value);
        }
        fn del(m: *std.StringHashMap([]u8), alloc: std.mem.Allocator, key: []const u8) bool {
            const kv = m.fetchRemove(key) orelse return false;
            alloc.free(kv.key);
            alloc.free(kv.value);
            return true;
        }
    };

    var prng = std.Random.DefaultPrng.init(0x5eed_da5b);
    const rand = prng.random();
    var key_buf: [8]u8 = undefined;
    var val_buf: [12]u8 = undefined;
    var out_buf: [6]u8 = undefined;

    for (0..20_000) |_| {
        const key = try std.fmt.bufPrint(&key_buf, "k{d}", .{rand.uintLessThan(u8, 48)});
        const vlen = rand.uintAtMost(usize, val_buf.len);
        rand.bytes(val_buf[0..vlen]);
        const value = val_buf[0..vlen];
        const expected = model.get(key);

        switch (rand.uintLessThan(u8, 14)) {
            0 => {
                try map.put(key, value);
                try Model.set(&model, a, key, value);
            },
            1 => {
                try testing.expectEqual(expected != null, try map.insert(key, value));
                try Model.set(&model, a, key, value);
            },
            2 => {
                try testing.expectEqual(expected == null, try map.tryInsert(key, value));
                if (expected == null) try Model.set(&model, a, key, value);
            },
            3 => {
                const got = try map.get(a, key);
                defer if (got) |g| a.free(g);
                try expectSame(expected, got);
            },
            4 => try testing.expectEqual(Model.del(&model, a, key), try map.delete(key)),
            5 => {
                const got = try map.remove(a, key);
                defer if (got) |g| a.free(g);
                try expectSame(expected, got);
                _ = Model.del(&model, a, key);
            },
            6 => {
                const delta = rand.int(i64);
                if (expected != null and expected.?.len != 8) {
                    try testing.expectError(error.NotACounter, map.add(key, delta));
                    continue;
                }
                const before: i64 = if (expected) |e| std.mem.readInt(i64, e[0..8], .little) else 0;
                const after = try map.add(key, delta);
                try testing.expectEqual(before +% delta, after);
                var le: [8]u8 = undefined;
                std.mem.writeInt(i64, &le, after, .little);
                try Model.set(&model, a, key, &le);
            },
            7 => {
                const old = try map.swap(a, key, value);
                defer if (old) |o| a.free(o);
                try expectSame(expected, old);
                try Model.set(&model, a, key, value);
            },
            8 => {
                // Expect the current value half the time, a random one otherwise.
                const guess: []const u8 = if (expected != null and rand.boolean()) expected.? else value[0 .. vlen / 2];
                const res = try map.compareAndSwap(key, guess, value);
                if (expected) |e| {
                    if (std.mem.eql(u8, e, guess)) {
                        try testing.expectEqual(dashmap.CasResult.success, res);
                        try Model.set(&model, a, key, value);
                    } else try testing.expectEqual(dashmap.CasResult.mismatch, res);
                } else try testing.expectEqual(dashmap.CasResult.not_found, res);
            },
            9 => {
                const res = try map.getOrInsert(a, key, value);
                defer a.free(res.value);
                try testing.expectEqual(expected != null, res.found_existing);
                try testing.expectEqualSlices(u8, expected orelse value, res.value);
                if (expected == null) try Model.set(&model, a, key, value);
            },
            10 => {
                try testing.expectEqual(expected != null, try map.contains(key));
                try testing.expectEqual(if (expected) |e| e.len else null, try map.valueLen(key));
            },
            11 => try testing.expectEqual(model.count(), try map.len()),
            12 => {
                // Append one byte to a present value (up to 12), else insert "x".
                const Append = struct {
                    fn f(_: void, e: *Entry) dashmap.Error!void {
                        var tmp: [13]u8 = undefined;
                        const cur = e.value() orelse return e.set("x");
                        if (cur.len >= 12) return;
                        @memcpy(tmp[0..cur.len], cur);
                        tmp[cur.len] = '+';
                        try e.set(tmp[0 .. cur.len + 1]);
                    }
                };
                try map.update(key, {}, Append.f);
                if (expected) |e| {
                    if (e.len < 12) {
                        var tmp: [13]u8 = undefined;
                        @memcpy(tmp[0..e.len], e);
                        tmp[e.len] = '+';
                        try Model.set(&model, a, key, tmp[0 .. e.len + 1]);
                    }
                } else try Model.set(&model, a, key, "x");
            },
            13 => {
                if (map.getInto(key, &out_buf)) |got| {
                    try expectSame(expected, got);
                } else |err| {
                    try testing.expectEqual(error.BufferTooSmall, err);
                    try testing.expect(expected.?.len > out_buf.len);
                }
            },
            else => unreachable,
        }
    }

    // The final contents agree, entry by entry.
    try testing.expectEqual(model.count(), try map.len());
    var it = try map.iterator();
    defer it.deinit();
    var n: usize = 0;
    while (try it.next()) |kv| : (n += 1) {
        try testing.expectEqualSlices(u8, model.get(kv.key).?, kv.value);
    }
    try testing.expectEqual(model.count(), n);
}

fn expectSame(expected: ?[]const u8, actual: ?[]const u8) !void {
    if (expected) |e| {
        try testing.expect(actual != null);
        try testing.expectEqualSlices(u8, e, actual.?);
    } else try testing.expectEqual(@as(?[]const u8, null), actual);
}

test "threads: 4 x 100_000 adds give the exact total" {
    var map = try Map.init(.{});
    defer map.deinit();
    const per_thread = 100_000;
    const Worker = struct {
        fn run(m: Map, id: usize) void {
            var own = m;
            defer own.deinit();
            var kb: [16]u8 = undefined;
            const mine = std.fmt.bufPrint(&kb, "thread-{d}", .{id}) catch unreachable;
            for (0..per_thread) |_| {
                _ = own.add("total", 1) catch unreachable;
                _ = own.add(mine, 2) catch unreachable;
            }
        }
    };
    var threads: [4]std.Thread = undefined;
    for (&threads, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, Worker.run, .{ map.ref(), i });
    for (threads) |t| t.join();
    try testing.expectEqual(@as(?i64, 4 * per_thread), try map.counter("total"));
    for (0..4) |i| {
        var kb: [16]u8 = undefined;
        try testing.expectEqual(@as(?i64, 2 * per_thread), try map.counter(try std.fmt.bufPrint(&kb, "thread-{d}", .{i})));
    }
}

test "iteration under concurrent writes sees stable keys exactly once" {
    var map = try testMap();
    defer map.deinit();
    const stable = 2000;
    for (0..stable) |i| {
        var kb: [16]u8 = undefined;
        try map.put(try std.fmt.bufPrint(&kb, "s{d}", .{i}), "stable");
    }

    const Writer = struct {
        fn run(m: Map, stop: *std.atomic.Value(bool), writes: *std.atomic.Value(usize)) void {
            var own = m;
            defer own.deinit();
            var i: usize = 0;
            while (!stop.load(.acquire)) : (i += 1) {
                var kb: [16]u8 = undefined;
                const key = std.fmt.bufPrint(&kb, "w{d}", .{i % 512}) catch unreachable;
                if (i % 3 == 2) {
                    _ = own.delete(key) catch unreachable;
                } else {
                    own.put(key, "churn") catch unreachable;
                }
                _ = writes.fetchAdd(1, .release);
            }
        }
    };
    var stop = std.atomic.Value(bool).init(false);
    var writes = std.atomic.Value(usize).init(0);
    const writer = try std.Thread.spawn(.{}, Writer.run, .{ map.ref(), &stop, &writes });
    defer writer.join();
    defer stop.store(true, .release);
    // Iterate only once the writer is running, and until it has written a
    // good deal meanwhile (at least 10 rounds; bounded in case it starves).
    while (writes.load(.acquire) == 0) std.Thread.yield() catch {};
    const writes_before = writes.load(.acquire);

    var seen = try std.DynamicBitSet.initEmpty(testing.allocator, stable);
    defer seen.deinit();
    var round: usize = 0;
    while (round < 10 or (writes.load(.acquire) - writes_before < 5000 and round < 10_000)) : (round += 1) {
        seen.setRangeValue(.{ .start = 0, .end = stable }, false);
        var it = try map.iterator();
        defer it.deinit();
        var n: usize = 0;
        while (try it.next()) |kv| : (n += 1) {
            if (kv.key.len > 0 and kv.key[0] == 's') {
                const i = try std.fmt.parseInt(usize, kv.key[1..], 10);
                if (seen.isSet(i)) {
                    std.debug.print("round {d}: stable key {s} returned twice (entry {d})\n", .{ round, kv.key, n });
                    return error.TestUnexpectedResult;
                }
                seen.set(i);
                try testing.expectEqualStrings("stable", kv.value);
            } else if (kv.key.len == 0 or kv.key[0] != 'w' or !std.mem.eql(u8, kv.value, "churn")) {
                std.debug.print("round {d}: unexpected entry {d}: key '{s}' value '{s}'\n", .{ round, n, kv.key, kv.value });
                return error.TestUnexpectedResult;
            }
        }
        if (seen.count() != stable) {
            var missing = seen.iterator(.{ .kind = .unset });
            std.debug.print("round {d}: {d} stable keys missing, first s{d} ({d} entries returned)\n", .{ round, stable - seen.count(), missing.next().?, n });
            return error.TestUnexpectedResult;
        }
    }
    try testing.expect(writes.load(.acquire) > writes_before);
}

test "swap while another thread resizes the value" {
    var map = try testMap();
    defer map.deinit();
    const long = "a value long enough to need a bigger buffer than before";
    const values = [_][]const u8{ "", "s", long, "medium-sized" };
    try map.put("k", "s");

    const Resizer = struct {
        fn run(m: Map, stop: *std.atomic.Value(bool)) void {
            var own = m;
            defer own.deinit();
            var i: usize = 0;
            while (!stop.load(.acquire)) : (i += 1) own.put("k", values[i % values.len]) catch unreachable;
        }
    };
    var stop = std.atomic.Value(bool).init(false);
    const resizer = try std.Thread.spawn(.{}, Resizer.run, .{ map.ref(), &stop });
    defer resizer.join();
    defer stop.store(true, .release);

    // testing.allocator checks that every slice is freed with its exact length.
    for (0..20_000) |i| {
        const mine = values[(i + 1) % values.len];
        const old = (try map.swap(testing.allocator, "k", mine)).?;
        defer testing.allocator.free(old);
        for (values) |v| {
            if (std.mem.eql(u8, v, old)) break;
        } else return error.TestUnexpectedResult;
    }
}

test "README examples" {
    const allocator = testing.allocator;
    var map = try Map.init(.{});
    defer map.deinit();

    try map.put("hello", "world");
    if (try map.get(allocator, "hello")) |value| {
        defer allocator.free(value);
        try testing.expectEqualStrings("world", value);
    }
    _ = try map.add("hits", 1);

    const Bump = struct {
        fn f(step: u8, e: *dashmap.Entry) dashmap.Error!bool {
            const v = e.valueMut() orelse {
                try e.set(&[_]u8{step});
                return true; // was vacant
            };
            v[0] +%= step;
            return false;
        }
    };
    try testing.expect(try map.update("k", @as(u8, 1), Bump.f));
    try testing.expect(!try map.update("k", @as(u8, 1), Bump.f));
    var buf: [1]u8 = undefined;
    try testing.expectEqualSlices(u8, &.{2}, (try map.getInto("k", &buf)).?);
}
