// flock-based file locks and the data directory's file names.
#include "persistence/file_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace emporium::persistence {

std::unique_ptr<file_lock> file_lock::try_acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return nullptr;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<file_lock>(new file_lock(fd));
}

std::unique_ptr<file_lock> file_lock::acquire(const std::string& path,
                                              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto lock = try_acquire(path))
      return lock;
    if (std::chrono::steady_clock::now() >= deadline)
      return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

file_lock::~file_lock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

std::string shard_db_path(const std::string& data_dir, std::uint32_t shard) {
  return fmt::format("{}/shard-{:02}.db", data_dir, shard);
}

std::string shard_lock_path(const std::string& data_dir, std::uint32_t shard) {
  return fmt::format("{}/shard-{:02}.lock", data_dir, shard);
}

std::string global_db_path(const std::string& data_dir) {
  return data_dir + "/emporium.db";
}

} // namespace emporium::persistence
