// A database path of the unit tests' own, with no file, WAL or shared
// memory left from an earlier run.
#pragma once

#include <filesystem>
#include <string>

namespace emporium::testing {

inline std::string fresh_db_path(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / "emporium-unit";
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
  return path;
}

} // namespace emporium::testing
