// Background WAL checkpoints (see checkpointer.hpp).
#include "persistence/checkpointer.hpp"

#include "support/thread_name.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>

namespace emporium::persistence {

std::shared_ptr<checkpointer> checkpointer::for_file(const std::string& path, durability level,
                                                     std::chrono::milliseconds every) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<checkpointer>> running;
  std::lock_guard guard{mutex};
  auto& slot = running[path];
  if (auto existing = slot.lock())
    return existing;
  auto fresh = std::make_shared<checkpointer>(path, level, every);
  slot = fresh;
  return fresh;
}

checkpointer::checkpointer(const std::string& path, durability level,
                           std::chrono::milliseconds every)
  : path_(path), db_(open_database(path, level)), every_(every) {
  auto& r = metrics::default_registry();
  auto db = std::filesystem::path{path}.filename().string();
  cells_.checkpoints =
    &r.counter_family("emporium_sqlite_checkpoints_total",
                      "WAL checkpoints that copied pages: the background thread's, and "
                      "the writer's own before the log starts over",
                      {"db"})
       .with({db});
  cells_.frames = &r.counter_family("emporium_sqlite_checkpointed_pages_total",
                                    "WAL pages copied into the database file", {"db"})
                     .with({db});
  cells_.wal_frames = &r.gauge_family("emporium_sqlite_wal_pages",
                                      "Pages in the write-ahead log at the last checkpoint pass",
                                      {"db"})
                         .with({db});
  cells_.file_bytes = &r.gauge_family("emporium_sqlite_file_bytes",
                                      "Bytes of the database file and its write-ahead log",
                                      {"db"})
                         .with({db});
  thread_ = std::thread([this] { loop(); });
}

void checkpointer::publish(int log, std::uint64_t delta) {
  if (delta > 0) {
    cells_.checkpoints->inc();
    cells_.frames->inc(delta);
  }
  cells_.wal_frames->set(log);
  std::error_code ec;
  double bytes = 0;
  for (const auto& file : {path_, path_ + "-wal"}) {
    auto size = std::filesystem::file_size(file, ec);
    if (!ec)
      bytes += static_cast<double>(size);
  }
  cells_.file_bytes->set(bytes);
}

checkpointer::~checkpointer() {
  {
    std::lock_guard guard{mutex_};
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void checkpointer::run_once() {
  std::lock_guard guard{pass_mutex_};
  pass(db_->getHandle());
  ++passes_;
}

void checkpointer::run_on_writer(sqlite3* writer) {
  std::unique_lock guard{pass_mutex_, std::try_to_lock};
  if (guard.owns_lock())
    pass(writer);
}

void checkpointer::run_soon() {
  {
    std::lock_guard lock{mutex_};
    soon_ = true;
  }
  wake_.notify_one();
}

void checkpointer::pass(sqlite3* db) {
  int log = 0;
  int copied = 0;
  // PASSIVE: copies what no reader still needs, never waits for a lock.
  auto rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  if (rc != SQLITE_OK || copied < 0)
    return;
  // `copied` counts from the start of the current WAL; a shorter log than
  // last time means a writer started the WAL over.
  auto fresh_log = log < last_log_;
  auto delta = fresh_log ? copied : copied - last_copied_;
  if (delta > 0)
    frames_ += static_cast<std::uint64_t>(delta);
  last_log_ = log;
  last_copied_ = copied;
  publish(log, delta > 0 ? static_cast<std::uint64_t>(delta) : 0);
}

void checkpointer::loop() {
  // "ckpt shard-03": the file without its extension.
  name_this_thread("ckpt " + std::filesystem::path{path_}.stem().string());
  std::unique_lock lock{mutex_};
  for (;;) {
    wake_.wait_for(lock, every_, [this] { return stop_ || soon_; });
    if (stop_)
      return;
    soon_ = false;
    lock.unlock();
    run_once();
    lock.lock();
  }
}

} // namespace emporium::persistence
