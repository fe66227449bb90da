// The SQLite layer: migrations, batched commits, refusal of corrupt files.
#include "persistence/entity_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace emporium::persistence;

namespace {
std::string fresh_path(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / "emporium-unit";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path.string() + suffix);
  return path.string();
}
} // namespace

TEST_CASE("a batch commits atomically and survives reopening") {
  auto path = fresh_path("batch.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> first{{1, "alice", "{\"a\":1}", {}},
                                    {1, "bob", "{\"b\":2}", {}},
                                    {2, "7", "{}", {}}};
    store.commit(first);
    std::vector<entity_write> second{{1, "alice", "{\"a\":3}", {}}};
    store.commit(second);
  }
  entity_store again(path, durability::full);
  CHECK(again.load(1, "alice").value() == "{\"a\":3}");
  CHECK(again.load(1, "bob").value() == "{\"b\":2}");
  CHECK_FALSE(again.load(2, "alice").has_value());
  CHECK(again.load_all(1).size() == 2);
}

TEST_CASE("a corrupt file is refused with a clear error, never reset") {
  auto path = fresh_path("corrupt.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i)
      out << "this is not a database file ";
  }
  auto size_before = std::filesystem::file_size(path);
  CHECK_THROWS_WITH_AS(open_database(path, durability::normal),
                       doctest::Contains("not a readable Emporium database"), store_error);
  CHECK(std::filesystem::file_size(path) == size_before);
}

TEST_CASE("a database from a newer schema is refused; a current one reopens") {
  auto path = fresh_path("newer.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> batch{{1, "x", "{}", {}}};
    store.commit(batch);
  }
  {
    entity_store store(path, durability::normal); // migrations do not run twice
    CHECK(store.load(1, "x").value() == "{}");
  }
  {
    auto db = open_database(path, durability::normal);
    CHECK(db->execAndGet("PRAGMA user_version").getInt() == current_schema_version());
    db->exec("PRAGMA user_version = 99");
  }
  CHECK_THROWS_WITH_AS(open_database(path, durability::normal), doctest::Contains("newer"),
                       store_error);
}

TEST_CASE("statements are prepared once per connection and reset after each use") {
  auto path = fresh_path("cache.db");
  connection db(path, durability::normal);
  for (int i = 0; i < 3; ++i) {
    auto q = db.statement("SELECT ? + 1");
    q->bind(1, i);
    REQUIRE(q->executeStep());
    CHECK(q->getColumn(0).getInt() == i + 1);
  }
  // The lease reset the statement: a write transaction can start and see
  // no read snapshot held open by the SELECT above.
  write_transaction tx(db);
  db.statement("CREATE TABLE t(x)")->exec();
  tx.commit();
  {
    write_transaction abandoned(db);
    db.statement("INSERT INTO t VALUES(1)")->exec();
  } // rolled back
  auto count = db.statement("SELECT COUNT(*) FROM t");
  REQUIRE(count->executeStep());
  CHECK(count->getColumn(0).getInt() == 0);
}

TEST_CASE("the WAL is checkpointed off the writer's path") {
  auto path = fresh_path("checkpoint.db");
  entity_store store(path, durability::normal);
  std::vector<entity_write> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back({1, "user" + std::to_string(i), std::string(2000, 'x'), {}});
  store.commit(batch);
  // The writer's own threshold is far above this batch: the file's
  // background checkpointer (one per file, shared) copies it, on its tick or
  // on this explicit pass, whichever comes first.
  auto background = checkpointer::for_file(path, durability::normal);
  background->run_once();
  CHECK(background->frames_checkpointed() >= 100); // 200 rows of 2 kB
  connection writer(path, durability::normal);
  auto threshold = writer.statement("PRAGMA wal_autocheckpoint");
  REQUIRE(threshold->executeStep());
  CHECK(threshold->getColumn(0).getInt() == fallback_autocheckpoint_pages);
}
