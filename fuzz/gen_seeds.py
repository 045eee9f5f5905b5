#!/usr/bin/env python3
"""Writes the committed seed corpus of the `api_sequence` fuzz target.

Deterministic: one seed per operation family of the decoder in
fuzz_targets/api_sequence.rs (a few inserts first so that reads, walks and
updates have something to work on), plus mixed seeds on a bounded map and
on the second map. libFuzzer grows the corpus from here; scripts/fuzz.sh
keeps what it finds in fuzz/corpus-work, not in the committed directory.

    python3 fuzz/gen_seeds.py            # rewrites fuzz/corpus/api_sequence
"""
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "api_sequence")

# First opcode of each family in `run()` (op & 0x7f; the high bit picks map 1).
FAMILIES = {
    "insert": 0, "insert_ttl": 8, "get_copy": 11, "get_with": 15, "get_alloc": 17,
    "contains_key": 19, "remove": 21, "remove_if": 26, "len": 28, "clear": 30,
    "shrink": 31, "try_insert": 32, "get_or_insert": 35, "compare_and_swap": 38,
    "compare_and_remove": 41, "swap": 43, "add_i64": 46, "entry_update": 50,
    "for_each": 60, "for_each_mut": 63, "retain": 65, "iter": 68, "extend": 74,
    "get_many": 77, "remove_many": 80, "inspect": 82, "bad_args": 85, "misc": 95,
    "construct": 96, "ref_free": 98, "ttl": 102, "clock": 109, "check": 114,
}


def args(rng, n=10):
    return bytes(rng.randrange(256) for _ in range(n))


def seed(rng, ops, header=None):
    out = bytearray(header if header is not None else bytes([rng.randrange(256), 0, 1, 0]))
    for op in ops:
        out.append(op)
        out += args(rng)
    return bytes(out)


def main():
    rng = random.Random(20240601)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    seeds = {}
    for name, op in FAMILIES.items():
        inserts = [0, 1, 2, 8]
        seeds[name] = seed(rng, inserts + [op] * 6 + [114])
    # Mixed: random families on a bounded map (max_entries 2), on map 1, and
    # with the clock moving between TTL operations.
    ops = list(FAMILIES.values())
    for i in range(4):
        seeds[f"mixed_bounded_{i}"] = seed(rng, [rng.choice(ops) for _ in range(16)], bytes([i + 1, i & 1, i % 4, 3]))
    for i in range(3):
        seeds[f"mixed_map1_{i}"] = seed(rng, [rng.choice(ops) | 0x80 for _ in range(16)])
    for i in range(3):
        seeds[f"ttl_clock_{i}"] = seed(rng, [8, 8, 102, 109, 102, 109, 0, 109, 68, 68, 114, 102, 109, 114])
    seeds["reentrant_entry"] = seed(rng, [0, 0, 50, 50, 50, 50, 111, 60, 26, 15])
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
