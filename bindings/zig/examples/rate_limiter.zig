//! A per-client rate limiter on a dashmap.Map: the "Rate Limiter with
//! DashMap" section of the walkthrough, in Zig.
//!
//! Each client maps to a request counter that lives for one window:
//!
//!     const count = try map.addTtl(client, 1, window_ms); // allowed iff count <= limit
//!
//! The first request of a window creates the counter (1) with a deadline
//! `window_ms` from now; later requests add to it and keep that deadline.
//! When the clock reaches the deadline the counter expires, so the next
//! request opens a new window. Counting and deciding are one atomic step, so
//! a burst from many threads lets exactly `limit` requests through per window.
//!
//! The map runs on a manual clock (`Options.manual_clock`, moved with
//! `setClock`) so this program can check its own results exactly; a server
//! would keep the default monotonic clock. Run it with `zig build example`
//! (or `zig build run-rate-limiter`): it exits non-zero on any mismatch.
const std = @import("std");
const dashmap = @import("dashmap");

pub const RateLimiter = struct {
    /// client id -> requests seen in its current window (an i64 counter).
    counts: dashmap.Map,
    limit: i64,
    window_ms: u64,

    pub fn init(limit: i64, window_ms: u64, options: dashmap.Options) dashmap.Error!RateLimiter {
        return .{ .counts = try dashmap.Map.init(options), .limit = limit, .window_ms = window_ms };
    }

    pub fn deinit(self: *RateLimiter) void {
        self.counts.deinit();
    }

    /// Counts one request from `client`; true when it is allowed.
    pub fn check(self: RateLimiter, client: []const u8) dashmap.Error!bool {
        return try self.counts.addTtl(client, 1, self.window_ms) <= self.limit;
    }

    /// Requests `client` may still make in its current window.
    pub fn remaining(self: RateLimiter, client: []const u8) dashmap.Error!i64 {
        const used = try self.counts.counter(client) orelse return self.limit; // no window open
        return @max(self.limit - used, 0);
    }

    /// Milliseconds until `client`'s window resets (0: no window open).
    pub fn resetIn(self: RateLimiter, client: []const u8) dashmap.Error!u64 {
        const left = try self.counts.ttl(client) orelse return 0;
        return switch (left) {
            .ms => |ms| ms,
            .never => unreachable, // every counter is created with a TTL
        };
    }

    /// Forgets finished windows; returns how many. Expired counters are
    /// already invisible, this only frees their memory.
    pub fn sweep(self: RateLimiter) dashmap.Error!usize {
        return self.counts.purgeExpired();
    }
};

var failures: usize = 0;

fn expect(ok: bool, comptime what: []const u8, args: anytype) void {
    if (ok) return;
    std.debug.print("FAILED: " ++ what ++ "\n", args);
    failures += 1;
}

fn setTime(rl: RateLimiter, now_ms: u64) !void {
    try rl.counts.setClock(now_ms);
}

const threads = 4;
const burst = 250;

/// threads x burst requests at once for one client; returns how many passed.
fn runBurst(rl: RateLimiter) !i64 {
    const Worker = struct {
        fn run(counts: dashmap.Map, limiter: RateLimiter, allowed: *std.atomic.Value(i64)) void {
            var own = limiter;
            own.counts = counts; // this thread's own handle to the map
            defer own.counts.deinit();
            for (0..burst) |_| {
                if (own.check("api_key_shared") catch unreachable) _ = allowed.fetchAdd(1, .monotonic);
            }
        }
    };
    var allowed = std.atomic.Value(i64).init(0);
    var handles: [threads]std.Thread = undefined;
    for (&handles) |*h| h.* = try std.Thread.spawn(.{}, Worker.run, .{ rl.counts.ref(), rl, &allowed });
    for (handles) |h| h.join();
    return allowed.load(.monotonic);
}

pub fn main() !void {
    // 5 requests per client and 60 s window, on simulated time starting at 0.
    var rl = try RateLimiter.init(5, 60_000, .{ .manual_clock = true });
    defer rl.deinit();

    // 7 requests in one window: the first (t = 1 s) opens it, so it ends at 61 s.
    var allowed: usize = 0;
    for (0..7) |i| {
        const now: u64 = 1000 + i * 100;
        try setTime(rl, now);
        const ok = try rl.check("user_123");
        const left = try rl.remaining("user_123");
        const reset = try rl.resetIn("user_123");
        std.debug.print("t={d:>6} ms  request {d}: allowed={}, remaining={d}, window resets in {d} ms\n", .{ now, i + 1, ok, left, reset });
        expect(ok == (i < 5), "request {d}", .{i + 1});
        expect(left == if (i < 5) 4 - @as(i64, @intCast(i)) else 0, "remaining {d}", .{left});
        expect(reset == 61_000 - now, "the window ends at 61 s, not {d}", .{now + reset});
        if (ok) allowed += 1;
    }
    expect(allowed == 5, "5 of 7 allowed, got {d}", .{allowed});

    // One millisecond before the deadline the window is still closed...
    try setTime(rl, 60_999);
    expect(try rl.resetIn("user_123") == 1, "1 ms left", .{});
    expect(!try rl.check("user_123"), "denied at t = 60.999 s", .{});
    std.debug.print("t= 60999 ms  request 8: denied (window resets in 1 ms)\n", .{});
    // ...and at the deadline a new one opens with a full quota.
    try setTime(rl, 61_000);
    expect(try rl.remaining("user_123") == 5, "expired counter: full quota", .{});
    expect(try rl.check("user_123"), "allowed at t = 61 s", .{});
    expect(try rl.remaining("user_123") == 4, "1 used in the new window", .{});
    expect(try rl.resetIn("user_123") == 60_000, "the new window ends at 121 s", .{});
    std.debug.print("t= 61000 ms  request 9: allowed, new window, remaining={d}, resets in {d} ms\n", .{ try rl.remaining("user_123"), try rl.resetIn("user_123") });

    // Concurrent bursts, one per window: exactly `limit` pass, and every
    // request is counted.
    for (0..3) |w| {
        const start: u64 = 120_000 + w * rl.window_ms;
        try setTime(rl, start);
        const ok = try runBurst(rl);
        const count = (try rl.counts.counter("api_key_shared")).?;
        std.debug.print("t={d:>6} ms  burst of {d} concurrent requests: {d} allowed (counter {d})\n", .{ start, threads * burst, ok, count });
        expect(ok == rl.limit, "exactly {d} allowed, got {d}", .{ rl.limit, ok });
        expect(count == threads * burst, "every request counted, got {d}", .{count});
    }

    // Ten more clients, one every 5 s from t = 250 s: windows end at 310 s ... 355 s.
    for (0..10) |i| {
        var buf: [16]u8 = undefined;
        const client = try std.fmt.bufPrint(&buf, "client_{d}", .{i});
        try setTime(rl, 250_000 + i * 5000);
        expect(try rl.check(client), "first request of {s}", .{client});
    }

    // At t = 320 s, user_123 (ended 121 s), api_key_shared (300 s) and
    // client_0..2 (310, 315, 320 s) are over: invisible at once, stored until swept.
    try setTime(rl, 320_000);
    expect(!try rl.counts.contains("user_123") and !try rl.counts.contains("client_2") and
        try rl.counts.contains("client_3"), "expired windows are invisible", .{});
    const before = try rl.counts.len();
    const swept = try rl.sweep();
    const after = try rl.counts.len();
    std.debug.print("t=320000 ms  sweep: {d} stored, {d} swept, {d} left\n", .{ before, swept, after });
    expect(before == 12, "len counts expired entries until swept, got {d}", .{before});
    expect(swept == 5 and after == 7, "5 finished windows swept", .{});
    expect(try rl.sweep() == 0, "nothing left to sweep", .{});

    // The same limiter on the real clock: a fresh client is allowed.
    var live = try RateLimiter.init(5, 1000, .{});
    defer live.deinit();
    expect(try live.check("dave"), "dave allowed on the real clock", .{});

    if (failures != 0) {
        std.debug.print("rate_limiter: {d} check(s) FAILED\n", .{failures});
        std.process.exit(1);
    }
    std.debug.print("rate_limiter: OK\n", .{});
}
