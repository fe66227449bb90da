// Opening Emporium's SQLite file: WAL mode, durability level, busy timeout,
// and the versioned schema migrated on start. Knows nothing about actors.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace SQLite {
class Database;
}

namespace emporium::persistence {

/// The data file is missing, unreadable, corrupt or from a newer version.
/// main() turns it into a clear message and exit code 3; we never reset data.
class store_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class durability {
  normal, // WAL + synchronous=NORMAL: survives a process crash (default)
  full,   // WAL + synchronous=FULL: also survives power loss
};

/// Opens (creating if absent) and migrates the database at `path`.
/// Throws store_error with a message naming the file and the cause.
std::unique_ptr<SQLite::Database> open_database(const std::string& path, durability level);

/// Opens, validates and migrates the file, then closes it (start-up check).
void prepare_database(const std::string& path, durability level);

/// The schema version this build writes (PRAGMA user_version).
int current_schema_version();

} // namespace emporium::persistence
