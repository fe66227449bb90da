// A SQLite VFS that hands each transaction's write-ahead-log frames to the
// kernel in one write instead of two per page.
//
// SQLite writes a WAL frame as two pwrite()s (its 24-byte header, then the
// page), so a group commit of 64 cart saves was ~120 system calls, each
// walking the page cache for pages its neighbour had just touched: 40% of
// the store thread (perf, docs/benchmarks.md). This VFS wraps the platform
// one and keeps the WAL's contiguous writes in memory until one of:
//   - the commit makes them visible: SQLite publishes a commit by writing
//     the wal-index header twice with a memory barrier between
//     (xShmBarrier on the database file); the frames reach the file inside
//     that barrier, before the second copy, which is the one readers trust
//     (a reader that sees the copies differ waits for the writer's lock);
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
};
wal_write_counts wal_writes();

} // namespace emporium::persistence
