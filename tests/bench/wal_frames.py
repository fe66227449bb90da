"""What a shard's commits write: `python3 tests/bench/wal_frames.py <data-dir>
<pid>` stops the node (SIGSTOP) for as long as it takes to copy its shard
files and their write-ahead logs, lets it go on, and counts the copied
logs' current frames (the pages committed since each log last started
over) by the B-tree each page belongs to (SQLite's `dbstat`). Prints a
table of frames per commit by B-tree. The node's own log restarts after
each checkpoint, so a copy holds the commits of the last ~200 ms of each
shard."""
import glob
import os
import shutil
import signal
import sqlite3
import struct
import sys
import tempfile
from collections import Counter


def copy_stopped(data_dir, pid, into):
    os.kill(pid, signal.SIGSTOP)
    try:
        for db in glob.glob(os.path.join(data_dir, "shard-*.db")):
            for path in (db, db + "-wal"):
                if os.path.exists(path):
                    shutil.copy(path, into)
    finally:
        os.kill(pid, signal.SIGCONT)


def frames_of(db, pages, commits):
    wal_path = db + "-wal"
    if not os.path.exists(wal_path):
        return 0
    with open(wal_path, "rb") as f:
        wal = f.read()
    if len(wal) < 32:
        return 0
    # Header: magic, version, page size, checkpoint seq, salt 1, salt 2, checksums.
    page_size, salt = struct.unpack(">I", wal[8:12])[0], wal[16:24]
    # Each page's B-tree from the database file alone (immutable: SQLite
    # neither reads nor folds the copied log): as of the last checkpoint;
    # pages the log adds to the file show as new.
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    owner = {page: name for name, page in con.execute("SELECT name, pageno FROM dbstat")}
    con.close()
    n, off = 0, 32
    while off + 24 + page_size <= len(wal):
        page, size_after = struct.unpack(">II", wal[off:off + 8])
        if wal[off + 8:off + 16] != salt:
            break  # a frame of an earlier pass over the log
        pages[owner.get(page, "(new page)")] += 1
        if size_after:
            commits[0] += 1  # a commit's last frame carries the database's size
        n += 1
        off += 24 + page_size
    return n


def main():
    data_dir, pid = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory() as into:
        copy_stopped(data_dir, pid, into)
        pages, commits = Counter(), [0]
        total = sum(frames_of(db, pages, commits)
                    for db in sorted(glob.glob(os.path.join(into, "shard-*.db"))))
    c = max(commits[0], 1)
    print(f"| B-tree | frames per commit |\n|---|---|")
    for name, n in pages.most_common():
        print(f"| `{name}` | {n / c:.2f} |")
    print(f"| all ({total} frames, {commits[0]} commits) | {total / c:.2f} |")


if __name__ == "__main__":
    main()
