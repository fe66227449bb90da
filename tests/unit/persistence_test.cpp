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
