// Moves WAL checkpoints off the writers' path. SQLite runs a checkpoint
// inside the commit that crosses `wal_autocheckpoint` pages: that commit then
// copies pages and waits for two fsyncs while every save batched behind it
// waits too (the orders benchmark's p99 fell by a fifth without them). One
// background thread per database file checkpoints PASSIVE-ly instead: it
// never blocks a writer, and writers keep a high fallback threshold in case
// it falls behind.
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

namespace emporium::persistence {

/// Pages a writer's own commit checkpoints at, when the background thread
/// has not (SQLite's default is 1000).
inline constexpr int fallback_autocheckpoint_pages = 16384;

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

private:
  void loop();

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
  std::mutex pass_mutex_; // run_once() from the thread and from callers
  int last_log_ = 0;      // frames in the WAL at the last pass
  int last_copied_ = 0;   // of which checkpointed
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace emporium::persistence
