// An exclusive advisory lock on a file (flock). The kernel drops it when the
// holder closes it or dies (even by SIGKILL), so a crashed node never
// leaves a shard locked. Used so that one process at a time owns a shard's
// SQLite file, and so that nodes starting together prepare the data
// directory one after another.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace emporium::persistence {

class file_lock {
public:
  /// The lock if it is free right now, else nullptr (never waits).
  static std::unique_ptr<file_lock> try_acquire(const std::string& path);
  /// Waits up to `timeout` for the lock; nullptr if it stayed taken.
  static std::unique_ptr<file_lock> acquire(const std::string& path,
                                            std::chrono::milliseconds timeout);
  ~file_lock();
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

private:
  explicit file_lock(int fd) : fd_(fd) {}
  int fd_;
};

/// Where shard `shard` keeps its entities, orders and outbox.
std::string shard_db_path(const std::string& data_dir, std::uint32_t shard);
/// The lock file its owner holds.
std::string shard_lock_path(const std::string& data_dir, std::uint32_t shard);
/// Accounts, products and the payment ledger: shared by every node.
std::string global_db_path(const std::string& data_dir);

} // namespace emporium::persistence
