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

/// SQL that takes a current file back to before schema 13 (stock sales
/// without their time, and 14's ledger rows without theirs), for tests that
/// set an older user_version to see a step run again: every later step must
/// be undone, or it runs twice.
inline constexpr const char* back_before_schema_13_sql =
  "ALTER TABLE payments DROP COLUMN created_at; "
  "DELETE FROM retention WHERE name = 'payments_dated_from'; "
  "ALTER TABLE stock_sales DROP COLUMN sold_at; "
  "DELETE FROM retention WHERE name = 'stock_sales_dated_from';";

} // namespace emporium::testing
