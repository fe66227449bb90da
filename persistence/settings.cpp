// Installation settings (see settings.hpp).
#include "persistence/settings.hpp"
#include "support/random_hex.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

std::string installation_id(const std::string& db_path, durability level) {
  auto db = open_database(db_path, level);
  auto hex = random_hex(8);
  try {
    // INSERT OR IGNORE, then read: two nodes starting at once both end up
    // with the one that was written first.
    SQLite::Statement put(*db, "INSERT OR IGNORE INTO settings(name, value) "
                               "VALUES ('installation_id', ?)");
    put.bind(1, hex);
    put.exec();
    return db->execAndGet("SELECT value FROM settings WHERE name = 'installation_id'")
      .getString();
  } catch (const std::exception& e) {
    throw store_error(db_path + ": cannot read the installation id: " + e.what());
  }
}

} // namespace emporium::persistence
