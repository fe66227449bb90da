// Cached prepared statements (see connection.hpp).
#include "persistence/connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace emporium::persistence {

statement_lease::~statement_lease() {
  if (s_ == nullptr)
    return;
  try {
    s_->reset();
  } catch (...) {
    // reset() reports the error of the last step again; that error was
    // already thrown to the user of the lease.
  }
  s_->clearBindings();
}

connection::connection(const std::string& path, durability level)
  : db_(open_database(path, level)), checkpoints_(checkpointer::for_file(path, level)) {
  db_->exec(fmt::format("PRAGMA wal_autocheckpoint={}", fallback_autocheckpoint_pages));
}

connection::~connection() = default;

statement_lease connection::statement(std::string_view sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    auto stmt = std::make_unique<SQLite::Statement>(*db_, std::string{sql});
    // The key views the statement's own copy of its text.
    std::string_view key = stmt->getQuery();
    it = prepared_.emplace(key, std::move(stmt)).first;
  }
  return statement_lease{*it->second};
}

void connection::begin() {
  statement("BEGIN IMMEDIATE")->exec();
}

void connection::commit() {
  statement("COMMIT")->exec();
}

void connection::rollback() noexcept {
  try {
    statement("ROLLBACK")->exec();
  } catch (...) {
    // No transaction left to roll back (SQLite already ended it).
  }
}

std::int64_t connection::last_insert_rowid() const {
  return db_->getLastInsertRowid();
}

} // namespace emporium::persistence
