#!/usr/bin/env python3
"""Remembers which translation units clang-tidy found clean, so an unchanged unit is not analysed
again (scripts/lint tidy; a whole-tree run is ~15 minutes on 2 cores, a warm one seconds).

A unit's key is the SHA-256 of: the clang-tidy version, every .clang-tidy file of the checkout,
the unit's compile command (compile_commands.json), and the unit's preprocessed text with its
comments (the compiler's -E -C output with the same flags: every header it includes, ours and third
parties'; comments, because a NOLINT comment changes what clang-tidy reports).
Any change to the code a unit sees, its flags or the checks gives a new key. Only clean results are
stored (an empty file named by the key under the cache folder); findings are always recomputed.

    tidy_cache.py stale CACHE DB TIDY_VERSION ROOT UNIT...   prints "UNIT<TAB>KEY" for units without a clean stamp
    tidy_cache.py mark CACHE KEY...                          records those keys as clean
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def config_digest(root: Path, tidy_version: str) -> bytes:
    h = hashlib.sha256(tidy_version.encode())
    for f in sorted(root.glob("**/.clang-tidy")):
        if any(part in (".venv", "build", ".git") for part in f.relative_to(root).parts):
            continue
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.digest()


def preprocess_args(entry: dict) -> list:
    args = entry.get("arguments") or shlex.split(entry["command"])
    if args and os.path.basename(args[0]) == "ccache":
        args = args[1:]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD"):
            continue
        out.append(a)
    return out + ["-E", "-P", "-C", "-o", "-"]  # -C: comments stay (NOLINT is a comment)


def unit_key(entry: dict, base: bytes) -> str:
    h = hashlib.sha256(base)
    h.update(json.dumps(entry.get("arguments") or entry["command"]).encode())
    pre = subprocess.run(preprocess_args(entry), cwd=entry["directory"], capture_output=True)
    if pre.returncode != 0:
        return ""  # cannot preprocess: never cached, always analysed
    h.update(pre.stdout)
    return h.hexdigest()


def main() -> int:
    mode, cache = sys.argv[1], Path(sys.argv[2])
    if mode == "mark":
        cache.mkdir(parents=True, exist_ok=True)
        for key in sys.argv[3:]:
            if key:
                (cache / key).touch()
        return 0
    db, tidy_version, root, units = sys.argv[3], sys.argv[4], Path(sys.argv[5]), sys.argv[6:]
    entries = {e["file"]: e for e in json.load(open(db))}
    base = config_digest(root, tidy_version)
    jobs = int(os.environ.get("PULSE_LINT_JOBS", "2"))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        keys = list(pool.map(lambda u: unit_key(entries[u], base) if u in entries else "", units))
    for unit, key in zip(units, keys):
        if not key or not (cache / key).exists():
            print(f"{unit}\t{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
