// One SQLite connection with its prepared statements kept for reuse.
// Parsing SQL was ~15% of the node's CPU under order load when every call
// prepared its statement afresh; a connection compiles each distinct SQL
// text once and hands out leases that reset the statement when they end
// (an un-reset SELECT would pin its read snapshot and stall checkpoints).
#pragma once

#include "persistence/checkpointer.hpp"
#include "persistence/database.hpp"
#include "persistence/fencing.hpp"

#include <atomic>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;

namespace SQLite {
class Statement;
}

namespace emporium::persistence {

/// A cached statement for the length of one use: reset and unbound on exit.
class statement_lease {
public:
  explicit statement_lease(SQLite::Statement& s) : s_(&s) {}
  statement_lease(const statement_lease&) = delete;
  statement_lease& operator=(const statement_lease&) = delete;
  statement_lease(statement_lease&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
  ~statement_lease();
  SQLite::Statement* operator->() const { return s_; }
  SQLite::Statement& operator*() const { return *s_; }

private:
  SQLite::Statement* s_;
};

class connection {
public:
  /// Opens (creating and migrating if needed) the database at `path`.
  /// With a fence, every write transaction first checks the file's epoch.
  connection(const std::string& path, durability level, epoch_fence fence = {});
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// The statement for `sql`, prepared on its first use on this connection.
  statement_lease statement(std::string_view sql);

  /// BEGIN IMMEDIATE / COMMIT / ROLLBACK through cached statements. On a
  /// fenced shard file (fencing.hpp) begin() throws fenced_error when
  /// another node has raised the file's epoch, and commit() records the
  /// write under this process's epoch; commit() also throws fenced_error
  /// when the shard moved to another file meanwhile (shard_files.hpp): the
  /// write is then in a file nobody reads, and must not be acknowledged.
  void begin();
  void commit();
  void rollback() noexcept;

  std::int64_t last_insert_rowid() const;
  SQLite::Database& database() { return *db_; }

private:
  std::unique_ptr<SQLite::Database> db_;
  std::shared_ptr<checkpointer> checkpoints_; // shared by the file's connections
  epoch_fence fence_; // the epoch this node holds the file at
  std::string relocation_marker_; // of a fenced shard file (shard_files.hpp)
  std::int64_t epoch_ = 0; // of the open transaction (0: unfenced)
  // The epoch and time `last_write_ns` was last brought up to date with.
  std::int64_t witness_epoch_ = 0;
  std::int64_t witness_ns_ = 0;
  // The WAL restart this connection's commits take part in (checkpointer.hpp).
  static int on_commit_to_wal(void* self, sqlite3* db, const char* name, int pages);
  // The checkpointer's passes() when this log's length asked for a pass.
  std::optional<std::uint64_t> asked_at_pass_;
  std::unordered_map<std::string_view, std::unique_ptr<SQLite::Statement>> prepared_;
};

/// Commits on `commit()`, rolls back if left without it (an exception).
class write_transaction {
public:
  explicit write_transaction(connection& c) : c_(c) { c_.begin(); }
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;
  ~write_transaction() {
    if (!done_)
      c_.rollback();
  }
  void commit() {
    c_.commit();
    done_ = true;
  }

private:
  connection& c_;
  bool done_ = false;
};

} // namespace emporium::persistence
