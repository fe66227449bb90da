// Cached prepared statements (see connection.hpp).
#include "persistence/connection.hpp"

#include "domain/wall_clock.hpp"
#include "persistence/shard_files.hpp"

#include <algorithm>


#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
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

connection::connection(const std::string& path, durability level, epoch_fence fence)
  : db_(open_database(path, level)), checkpoints_(checkpointer::for_file(path, level)),
    fence_(std::move(fence)), relocation_marker_(fence_ ? relocation_marker_for(path) : "") {
  // Replaces SQLite's own checkpoint in the commit that crosses 1,000 pages.
  sqlite3_wal_hook(db_->getHandle(), &connection::on_commit_to_wal, this);
}

/// SQLite calls this after each commit with the WAL's length. Past
/// wal_restart_pages it has the file's checkpointer run a pass at once;
/// at a commit after that pass (or past twice the length, should the
/// thread lag), it copies what the pass left itself, so that its next
/// transaction starts the log over. Then it asks again only at the next
/// commit: a reader that holds the log's start keeps it from restarting,
/// and each commit would otherwise pay a pass. Returns SQLITE_OK whatever
/// happened: an error here would fail a statement whose commit is done.
int connection::on_commit_to_wal(void* self, sqlite3* db, const char*, int pages) {
  auto* c = static_cast<connection*>(self);
  if (pages < wal_restart_pages) {
    c->asked_at_pass_.reset();
    return SQLITE_OK;
  }
  if (!c->asked_at_pass_) {
    c->asked_at_pass_ = c->checkpoints_->passes();
    c->checkpoints_->run_soon();
  } else if (c->checkpoints_->passes() != *c->asked_at_pass_ || pages >= 2 * wal_restart_pages) {
    c->checkpoints_->run_on_writer(db);
    c->asked_at_pass_.reset();
  }
  return SQLITE_OK;
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
  epoch_ = fence_ ? fence_->load() : 0;
  if (epoch_ == 0)
    return;
  std::int64_t found = 0;
  {
    auto q = statement("SELECT COALESCE(MAX(epoch), 0) FROM shard_epochs");
    q->executeStep();
    found = q->getColumn(0).getInt64();
  }
  if (found == epoch_ && !relocation_marker_.empty())
    found = std::max(found, relocated_epoch(relocation_marker_));
  if (found != epoch_) {
    rollback();
    throw fenced_error(fmt::format("{}: ownership epoch is {} now, this node holds {}",
                                   db_->getFilename(), found, epoch_));
  }
}

void connection::commit() {
  std::int64_t witnessed = 0;
  if (epoch_ != 0) {
    auto now = wall_clock_ns();
    if (epoch_ != witness_epoch_ || now - witness_ns_ >= epoch_witness_interval_ns) {
      auto q = statement("UPDATE shard_epochs SET last_write_ns = ? WHERE epoch = ?");
      q->bind(1, now);
      q->bind(2, epoch_);
      q->exec();
      witnessed = now;
    }
  }
  statement("COMMIT")->exec();
  if (witnessed != 0) { // only a committed update counts
    witness_epoch_ = epoch_;
    witness_ns_ = witnessed;
  }
  // After COMMIT, not before: a relocation copies what committed before its
  // marker appeared; a commit that finds the marker may not be in the copy.
  if (epoch_ != 0 && !relocation_marker_.empty()) {
    auto moved = relocated_epoch(relocation_marker_);
    if (moved > epoch_)
      throw fenced_error(fmt::format("{}: the shard moved to epoch {}, this node holds {}",
                                     db_->getFilename(), moved, epoch_));
  }
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
