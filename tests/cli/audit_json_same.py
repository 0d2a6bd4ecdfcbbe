#!/usr/bin/env python3
"""Usage: audit_json_same.py A.json B.json

Exit 0 when two audit JSONs are the same run's result: equal in everything but "timing" (wall
time, threads, ranks, seconds per phase). Numbers compare as the binary64 values the JSON text
spells (Python reads them back exactly), so equal means bit-identical. Otherwise prints the
first differing path and exits 1."""
import json
import sys


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: present in only one"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} entries"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    docs = []
    for name in sys.argv[1:]:
        with open(name) as f:
            doc = json.load(f)
        if "timing" not in doc:
            sys.exit(f"{name}: no timing object: not an audit JSON")
        del doc["timing"]
        docs.append(doc)
    d = first_difference(*docs)
    if d:
        print(f"{sys.argv[1]} and {sys.argv[2]} differ at {d}")
        sys.exit(1)


main()
