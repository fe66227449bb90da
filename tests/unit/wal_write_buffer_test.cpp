// The buffered-WAL VFS (persistence/wal_write_buffer.hpp): a commit's log
// frames go out in a few writes, and no reader, crash, rollback,
// checkpoint or full disk can tell it apart from SQLite's own VFS.
#include "persistence/database.hpp"
#include "persistence/wal_write_buffer.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sqlite3.h>
#include "temp_db.hpp"

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

/// `path` opened as Emporium opens its files (through the VFS), with the
/// test table.
std::unique_ptr<SQLite::Database> open_with_table(const std::string& path) {
  auto db = open_database(path, durability::normal);
  db->exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  return db;
}

/// Rows [from, from + n) of `bytes` random bytes each, in the caller's
/// transaction (or one each, without one).
void insert_rows(SQLite::Database& db, int from, int n, int bytes) {
  SQLite::Statement q(db, "INSERT INTO t(k, v) VALUES(?, randomblob(?))");
  for (int k = from; k < from + n; ++k) {
    q.bind(1, k);
    q.bind(2, bytes);
    q.exec();
    q.reset();
  }
}

void commit_rows(SQLite::Database& db, int from, int n, int bytes) {
  SQLite::Transaction tx(db);
  insert_rows(db, from, n, bytes);
  tx.commit();
}

int rows(SQLite::Database& db) {
  return db.execAndGet("SELECT COUNT(*) FROM t").getInt();
}

/// What the default VFS (no buffer) reads from the file.
int rows_seen_by_plain_sqlite(const std::string& path) {
  SQLite::Database plain(path, SQLite::OPEN_READONLY);
  return rows(plain);
}

std::string integrity(const std::string& path) {
  SQLite::Database plain(path, SQLite::OPEN_READONLY);
  return plain.execAndGet("PRAGMA integrity_check").getString();
}

} // namespace

TEST_CASE("a commit's log frames reach the file in a few writes, not two per page") {
  auto path = fresh_db_path("walbuf-writes.db");
  auto db = open_with_table(path);
  auto before = wal_writes();
  commit_rows(*db, 0, 200, 1000); // ~50 pages of 4 KiB
  auto after = wal_writes();
  auto asked = after.asked - before.asked;
  auto issued = after.issued - before.issued;
  CHECK(asked >= 100); // ~50 frames, each a header and a page
  CHECK(issued >= 1);
  CHECK(issued <= 4); // ~250 KiB in pieces of 124 KiB
  // All of it went out with the commit frame, before SQLite published the
  // commit: nothing was left for the barrier, in which readers wait.
  CHECK(after.in_barrier == before.in_barrier);
  CHECK(rows_seen_by_plain_sqlite(path) == 200);
}

TEST_CASE("every other connection sees a commit as soon as it returns") {
  auto path = fresh_db_path("walbuf-visible.db");
  auto writer = open_with_table(path);
  auto reader = open_database(path, durability::normal); // the same VFS, its own handle
  auto before = wal_writes();
  for (int round = 1; round <= 20; ++round) {
    commit_rows(*writer, round * 1000, 30, 700);
    CHECK(rows(*reader) == round * 30);
    CHECK(rows_seen_by_plain_sqlite(path) == round * 30);
  }
  CHECK(wal_writes().in_barrier == before.in_barrier);
  CHECK(integrity(path) == "ok");
}

TEST_CASE("a process killed after its commits returned keeps every one of them") {
  auto path = fresh_db_path("walbuf-kill.db");
  {
    auto db = open_with_table(path);
  }
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(ready[0]);
    std::unique_ptr<SQLite::Database> db; // still open when the signal comes
    try {
      db = open_database(path, durability::normal);
      // All of it well under the buffer's 1 MiB, so nothing but the commits
      // themselves pushes frames out; killed right after the last one
      // returned, before anything else could read (and so flush) the log.
      for (int i = 0; i < 20; ++i)
        commit_rows(*db, i * 100, 20, 500);
      char done = 'k';
      if (write(ready[1], &done, 1) != 1)
        _exit(2);
    } catch (...) {
      _exit(3);
    }
    raise(SIGKILL); // no close, no destructor: the buffer is simply gone
    _exit(4);
  }
  close(ready[1]);
  char done = 0;
  CHECK(read(ready[0], &done, 1) == 1);
  close(ready[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(done == 'k');
  CHECK(rows_seen_by_plain_sqlite(path) == 20 * 20);
  CHECK(integrity(path) == "ok");
  auto again = open_database(path, durability::normal);
  CHECK(rows(*again) == 20 * 20);
}

TEST_CASE("a rolled-back transaction whose pages spilled into the log leaves no trace") {
  auto path = fresh_db_path("walbuf-rollback.db");
  auto db = open_with_table(path);
  db->exec("PRAGMA cache_size=8");
  commit_rows(*db, 0, 10, 500);
  {
    SQLite::Transaction tx(*db);
    insert_rows(*db, 1000, 600, 1000); // far more than 8 pages: spilled
  } // rolled back
  commit_rows(*db, 5000, 10, 500);
  CHECK(rows(*db) == 20);
  CHECK(rows_seen_by_plain_sqlite(path) == 20);
  CHECK(integrity(path) == "ok");
}

TEST_CASE("a transaction larger than the buffer commits whole") {
  auto path = fresh_db_path("walbuf-large.db");
  auto db = open_with_table(path);
  commit_rows(*db, 0, 3000, 1000); // ~3 MiB of frames, past the 1 MiB buffer
  CHECK(rows(*db) == 3000);
  CHECK(rows_seen_by_plain_sqlite(path) == 3000);
  CHECK(integrity(path) == "ok");
}

TEST_CASE("the log starting over after a checkpoint loses nothing") {
  auto path = fresh_db_path("walbuf-restart.db");
  auto db = open_with_table(path);
  SQLite::Database checkpointer(path, SQLite::OPEN_READWRITE);
  for (int round = 1; round <= 6; ++round) {
    commit_rows(*db, round * 1000, 40, 800);
    // TRUNCATE empties the log file; the next commit writes its header
    // again from offset 0.
    checkpointer.exec(round % 2 ? "PRAGMA wal_checkpoint(TRUNCATE)"
                                : "PRAGMA wal_checkpoint(RESTART)");
    CHECK(rows_seen_by_plain_sqlite(path) == round * 40);
  }
  commit_rows(*db, 99'000, 5, 100);
  CHECK(rows(*db) == 6 * 40 + 5);
  CHECK(integrity(path) == "ok");
  db.reset();
  auto reopened = open_database(path, durability::normal);
  CHECK(rows(*reopened) == 6 * 40 + 5);
}

TEST_CASE("exclusive locking, which would skip the publishing barrier, is refused") {
  auto path = fresh_db_path("walbuf-exclusive.db");
  auto db = open_database(path, durability::normal);
  CHECK_THROWS_WITH_AS(db->exec("PRAGMA locking_mode=EXCLUSIVE"),
                       doctest::Contains("not supported"), SQLite::Exception);
  CHECK(db->execAndGet("PRAGMA locking_mode").getString() == "normal");
}

TEST_CASE("a full disk fails the commit that meets it, keeps the ones before, and never "
          "stops the process") {
  if (geteuid() != 0) {
    MESSAGE("skipped: mounting a small tmpfs needs root (CI runs as root)");
    return;
  }
  auto dir = std::filesystem::temp_directory_path() / "emporium-unit-full-disk";
  umount2(dir.c_str(), MNT_DETACH); // left over from an interrupted run
  std::filesystem::create_directories(dir);
  REQUIRE(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=3m") == 0);
  auto path = (dir / "full.db").string();
  int committed = 0;
  int failure = SQLITE_OK;
  {
    auto db = open_with_table(path);
    for (int i = 0; i < 1000 && failure == SQLITE_OK; ++i) {
      try {
        commit_rows(*db, i * 100, 20, 1000);
        committed += 20;
      } catch (const SQLite::Exception& e) {
        failure = e.getErrorCode();
      }
    }
  }
  CHECK(failure == SQLITE_FULL);
  CHECK(committed > 0);
  CHECK(rows_seen_by_plain_sqlite(path) == committed);
  CHECK(integrity(path) == "ok");
  REQUIRE(umount2(dir.c_str(), MNT_DETACH) == 0);
  std::filesystem::remove(dir);
}

TEST_CASE("a file the platform cannot open fails cleanly through the VFS") {
  auto missing = std::filesystem::temp_directory_path() / "emporium-unit-no-such-dir" / "x.db";
  std::filesystem::remove_all(missing.parent_path());
  CHECK_THROWS_AS(open_database(missing.string(), durability::normal), store_error);
  // The VFS keeps working for the next file.
  auto path = fresh_db_path("walbuf-after-failure.db");
  auto db = open_with_table(path);
  commit_rows(*db, 0, 3, 10);
  CHECK(rows_seen_by_plain_sqlite(path) == 3);
}
