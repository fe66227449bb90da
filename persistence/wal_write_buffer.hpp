// A SQLite VFS that hands each transaction's write-ahead-log frames to the
// kernel in one write instead of two per page.
//
// SQLite writes a WAL frame as two pwrite()s (its 24-byte header, then the
// page), so a group commit of 64 cart saves was ~120 system calls, each
// walking the page cache for pages its neighbour had just touched: 40% of
// the store thread (perf, docs/benchmarks.md). This VFS wraps the platform
// one and keeps the WAL's contiguous writes in memory until one of:
//   - the commit's last frame is complete: its header carries the
//     database's size (every other frame's carries 0), and once its page
//     follows, the frames go to the file. SQLite then publishes the commit
//     in the wal-index (the header written twice with a memory barrier,
//     xShmBarrier on the database file, between the copies) without any
//     file call in between;
//   - the barrier itself, should anything still be buffered (a safety
//     net: nothing is, normally). A flush there would be wrong to rely on:
//     while the header's two copies differ, readers of other processes
//     wait, and a writer frozen in that moment (SIGSTOP, a VM pause) with a
//     flush in progress held them off until they gave up (SQLITE_PROTOCOL
//     after ~10 s; it happened in e2e_cluster's frozen-node case);
//   - anything that reads, sizes, syncs, truncates or closes the WAL, or a
//     write that is not contiguous with them, or 1 MiB of them.
// So every reader, checkpointer and crash sees exactly what it would have
// seen without the buffer: frames of a commit are in the kernel before
// the commit exists. A process killed while frames sit in the buffer loses
// only a transaction that never committed, as before.
//
// Disk full: the space for buffered frames is reserved (fallocate, in 1 MiB
// chunks) before they are accepted, so a full disk fails the write that
// SQLite can still roll back, never the flush inside the barrier, which
// cannot report an error. If that flush fails anyway (an I/O error), the
// process stops before the commit becomes visible: recovery then drops the
// incomplete transaction, which nobody was told had committed.
#pragma once

#include <cstdint>

namespace emporium::persistence {

/// The VFS's name for sqlite3_open_v2 (registered on the first call; not
/// the default VFS, so only files opened with it are affected).
const char* buffered_wal_vfs();

/// Write calls since start: what SQLite asked of the WAL, and what reached
/// the platform VFS. For tests and benchmarks.
struct wal_write_counts {
  std::uint64_t asked = 0;
  std::uint64_t issued = 0;
  std::uint64_t in_barrier = 0; // flushes left for the commit barrier (normally none)
};
wal_write_counts wal_writes();

} // namespace emporium::persistence
