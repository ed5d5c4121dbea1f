#!/usr/bin/env python3
"""Counts the commits in a SQLite write-ahead log (standard library only), for bench/forward-auth.

  wal.py FILE-wal    prints "salt=S1:S2 frames=N commits=C"

Every transaction that changed the database appended its pages to the WAL as frames, the last
of them a commit frame (its header's "database size after commit" is not zero). The frames that
belong to the log's current generation carry the salts of the WAL header; the scan stops at the
first that does not (left from before the log was started over). Comparing two readings with
the same salts gives the commits in between; different salts mean the log was started over
(after a complete checkpoint), and the second count is then a lower bound. A missing or empty
file prints salt=none.
"""

import struct
import sys


def main():
    path = sys.argv[1]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = b""
    if len(data) < 32:
        print("salt=none frames=0 commits=0")
        return
    magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">IIIIII", data[:24])
    if magic not in (0x377F0682, 0x377F0683):
        sys.exit(f"{path}: not a SQLite WAL file")
    frames = commits = 0
    at = 32
    while at + 24 + page_size <= len(data):
        _page, size_after, s1, s2 = struct.unpack(">IIII", data[at : at + 16])
        if (s1, s2) != (salt1, salt2):
            break
        frames += 1
        if size_after:
            commits += 1
        at += 24 + page_size
    print(f"salt={salt1}:{salt2} frames={frames} commits={commits}")


if __name__ == "__main__":
    main()
