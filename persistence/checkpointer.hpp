// Moves WAL checkpoints off the writers' path. SQLite runs a checkpoint
// inside the commit that crosses `wal_autocheckpoint` pages: that commit then
// copies pages and waits for two fsyncs while every save batched behind it
// waits too (the orders benchmark's p99 fell by a fifth without them). One
// background thread per database file checkpoints PASSIVE-ly instead: it
// never blocks a writer.
//
// A background pass alone never lets the log start over under steady
// writes: SQLite restarts the WAL only when a write transaction begins with
// every frame copied, and a writer that commits every few milliseconds has
// always appended more while the pass ran. The WAL then grew to the
// writer's fallback threshold (64 MiB per file, 12 files on a node) before
// the writer checkpointed it itself, and every first pass through that
// length extended the file a page at a time. So the writer takes part
// (connection.cpp): past `wal_restart_pages` it asks for a pass at once,
// and once that pass has finished it copies the few frames committed
// during it, between its own transactions, where nothing can be appended:
// its next transaction starts the log over.
#pragma once

#include "persistence/database.hpp"
#include "support/metrics.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace emporium::persistence {

/// The WAL length (pages) past which its writer has it started over (see
/// above); 8 MiB of 4 KiB pages.
inline constexpr int wal_restart_pages = 2048;

class checkpointer {
public:
  /// The checkpointer of the file at `path`, started by its first user and
  /// stopped when the last one lets go.
  static std::shared_ptr<checkpointer> for_file(const std::string& path, durability level,
                                                std::chrono::milliseconds every =
                                                  std::chrono::milliseconds(200));

  checkpointer(const std::string& path, durability level, std::chrono::milliseconds every);
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  /// Frames copied into the database file so far (for tests; a WAL that
  /// restarted and outgrew its old length between two passes undercounts).
  std::uint64_t frames_checkpointed() const { return frames_.load(); }

  /// Runs one pass now (also what the thread does on each tick).
  void run_once();

  /// Has the thread run its next pass now instead of on its tick.
  void run_soon();

  /// Passes run by the thread or by run_once() so far.
  std::uint64_t passes() const { return passes_.load(); }

  /// A pass on `writer`, the connection of the file's writer, between two
  /// of its transactions: it copies what the last pass left, and nothing
  /// can be appended meanwhile. Returns at once, copying nothing, while
  /// another pass runs.
  void run_on_writer(sqlite3* writer);

private:
  void loop();
  void pass(sqlite3* db); // with pass_mutex_ held

  /// Its metrics: checkpoints, frames copied, WAL length, file bytes.
  struct cells {
    metrics::counter* checkpoints = nullptr;
    metrics::counter* frames = nullptr;
    metrics::gauge* wal_frames = nullptr;
    metrics::gauge* file_bytes = nullptr;
  };
  void publish(int log, std::uint64_t delta);

  std::string path_;
  cells cells_;
  std::unique_ptr<SQLite::Database> db_;
  std::chrono::milliseconds every_;
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> passes_{0};
  std::mutex pass_mutex_; // run_once() from the thread and from callers
  int last_log_ = 0;      // frames in the WAL at the last pass
  int last_copied_ = 0;   // of which checkpointed
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool soon_ = false; // run_soon() asked for a pass before the tick
  std::thread thread_;
};

} // namespace emporium::persistence
