// Fencing: which process may write a shard file.
//
// The shard lock (file_lock) tells cooperating nodes who holds a shard, but
// a node that is frozen (SIGSTOP, a long GC-like stall, a VM pause) or cut
// off from its peers keeps that lock while the others, by quorum, have
// given its shards to someone else. So every shard file carries an
// ownership epoch (table `shard_epochs`, one row per opening): a node that
// opens a shard raises the epoch, and every write transaction of this
// process on that file first checks that the epoch is still the one it
// raised. A former owner that wakes up fails its next commit with
// fenced_error instead of writing over the new owner's data: SQLite's own
// write lock makes check-then-write atomic (BEGIN IMMEDIATE holds it until
// COMMIT), so no transaction of an older epoch can commit after a newer
// epoch was raised. A writer frozen inside a transaction holds that lock
// until it runs again: its shard then moves to a new file instead
// (shard_files.hpp), and a marker fences it.
//
// Each row also records when its writer first and last committed
// (`opened_ns`, `last_write_ns`): the partition tests check from the file
// alone that no two epochs' writes ever interleaved. `last_write_ns` is
// brought up to date by a commit at least `epoch_witness_interval_ns` after
// the last one that did (and by a connection's first commit), so it may be
// up to that much older than the last write: written by every commit, the
// row's page was one of every commit's ~5.6 WAL frames (18% of them under
// order load, docs/benchmarks.md). It never runs ahead of a real write, so
// an interleaving it shows is real; one within the interval can go unseen.
#pragma once

#include "persistence/database.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace emporium::persistence {

/// A write on a file whose epoch another node has raised since this
/// process opened it: this process no longer owns the file.
class fenced_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct shard_ownership {
  std::int64_t epoch = 0; // 0: never opened
  std::string node;       // who raised it
};

/// The file's latest epoch and its node (reads only; never waits for a
/// writer, WAL readers do not).
shard_ownership current_ownership(const std::string& path, durability level);

/// The epoch a shard's connections must find in the file for their writes
/// to commit; shared by the shard's connections and set by the router that
/// opened it. Empty (or 0): the file is not fenced (emporium.db, tools).
using epoch_fence = std::shared_ptr<const std::atomic<std::int64_t>>;

/// How stale `last_write_ns` may be (see above).
constexpr std::int64_t epoch_witness_interval_ns = 100'000'000;

/// Records `epoch` as `node`'s (this process) in the open database, inside
/// the caller's write transaction.
void record_epoch(SQLite::Database& db, std::int64_t epoch, const std::string& node);

/// Raises the file's epoch for `node`. Never waits: nullopt when another
/// process holds the file's write lock right now (a writer that froze
/// inside a transaction holds it until it runs again; the caller retries).
/// The new epoch is above `above` too (a relocation marker's epoch,
/// shard_files.hpp, which fences every writer below it).
std::optional<std::int64_t> take_ownership(const std::string& path, const std::string& node,
                                           durability level, std::int64_t above = 0);

} // namespace emporium::persistence
