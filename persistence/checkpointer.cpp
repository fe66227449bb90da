// Background WAL checkpoints (see checkpointer.hpp).
#include "persistence/checkpointer.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

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
  : db_(open_database(path, level)), every_(every) {
  thread_ = std::thread([this] { loop(); });
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
  int log = 0;
  int copied = 0;
  // PASSIVE: copies what no reader still needs, never waits for a lock.
  auto rc = sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                      &log, &copied);
  if (rc == SQLITE_OK && copied > 0)
    frames_ += static_cast<std::uint64_t>(copied);
}

void checkpointer::loop() {
  std::unique_lock lock{mutex_};
  while (!wake_.wait_for(lock, every_, [this] { return stop_; })) {
    lock.unlock();
    run_once();
    lock.lock();
  }
}

} // namespace emporium::persistence
