// Moving a shard to a new file when a frozen writer holds its old one:
// what it acknowledged before is in the copy, what it commits after is
// refused, and a damaged marker stops writes instead of letting them by.
#include "persistence/backup.hpp"
#include "persistence/connection.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/fencing.hpp"
#include "persistence/file_lock.hpp"
#include "persistence/shard_files.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>

using namespace emporium::persistence;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const char* name) {
  auto dir = fs::temp_directory_path() / "emporium-unit" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::shared_ptr<std::atomic<std::int64_t>> fence_at(std::int64_t epoch) {
  return std::make_shared<std::atomic<std::int64_t>>(epoch);
}

std::vector<entity_write> one_write(const std::string& id) {
  return {{1, id, snapshot_access::make("{\"id\":\"" + id + "\"}"), {}}};
}

bool holds(const std::string& path, const std::string& id) {
  return !entity_store(path, durability::normal).load(1, id).empty();
}

} // namespace

TEST_CASE("a relocation marker is read strictly") {
  CHECK(parse_relocation("7 shard-03.r7.db\n", 3) == shard_relocation{7, "shard-03.r7.db"});
  CHECK(parse_relocation("9 shard-03.r7.db\n", 3) == shard_relocation{9, "shard-03.r7.db"});
  CHECK(parse_relocation("4 shard-03.db\n", 3) == shard_relocation{4, "shard-03.db"});
  CHECK(parse_relocation(format_relocation({12, "shard-11.r5.db"}), 11) ==
        shard_relocation{12, "shard-11.r5.db"});
  for (const char* bad : {"", "\n", "7 shard-03.r7.db", "7 shard-04.r7.db\n", "7 shard-03.r8.db\n",
                          "0 shard-03.db\n", "-1 shard-03.db\n", "07 shard-03.db\n",
                          "7  shard-03.db\n", "7 shard-03.r.db\n", "7 shard-03.r07.db\n",
                          "7 ../shard-03.db\n", "7 shard-03.db\n\n", "7 shard-03.db \n",
                          "99999999999999999999 shard-03.db\n", "4611686018427387904 shard-03.db\n",
                          "7 shard-03.r7.db-wal\n", "7 shard-03.lock\n"})
    CHECK_MESSAGE(!parse_relocation(bad, 3), bad);
  CHECK_FALSE(parse_relocation(std::string(200, '1') + " shard-03.db\n", 3));
  CHECK(relocation_marker_for("/d/shard-03.r7.db") == "/d/shard-03.moved");
  CHECK(relocation_marker_for("/d/shard-03.db") == "/d/shard-03.moved");
  CHECK(relocation_marker_for("/d/emporium.db") == "");
}

TEST_CASE("a shard whose holder froze inside a write transaction moves to a new file: what it "
          "committed is there, what it commits after is refused") {
  auto dir = fresh_dir("relocate");
  auto path = shard_db_path(dir, 3);
  CHECK(current_shard_db(dir, 3) == path);
  auto first = fence_at(*take_ownership(path, "n1", durability::normal));
  entity_store old_owner(path, durability::normal, first);
  auto before = one_write("before");
  old_owner.commit(before);
  // Frozen mid-transaction: it holds SQLite's write lock.
  auto frozen = std::make_unique<connection>(path, durability::normal, first);
  frozen->begin();
  frozen->statement("INSERT INTO entities(kind, id, state) VALUES(1, 'during', '{}')")->exec();
  auto marker = relocation_marker_path(dir, 3);
  REQUIRE_FALSE(take_ownership(path, "n2", durability::normal, relocated_epoch(marker)));

  auto moved = relocate_shard(dir, 3, "n2", durability::normal);
  CHECK(moved.epoch == 2);
  CHECK(moved.path == dir + "/shard-03.r2.db");
  CHECK(current_shard_db(dir, 3) == moved.path);
  CHECK(shard_epoch(dir, 3, durability::normal) == 2);
  CHECK(current_ownership(moved.path, durability::normal).node == "n2");
  // It thaws: its commit lands in a file nobody reads, and fails.
  CHECK_THROWS_AS(frozen->commit(), fenced_error);
  frozen.reset();
  auto after = one_write("after");
  CHECK_THROWS_AS(old_owner.commit(after), fenced_error); // refused before writing
  CHECK(holds(moved.path, "before"));
  CHECK_FALSE(holds(moved.path, "during"));
  CHECK_FALSE(holds(moved.path, "after"));

  entity_store new_owner(moved.path, durability::normal, fence_at(moved.epoch));
  auto next = one_write("next");
  CHECK_NOTHROW(new_owner.commit(next));
  CHECK(holds(moved.path, "next"));

  // Once it holds the lock, the old file goes; the current one stays.
  CHECK(remove_superseded_files(dir, 3) >= 1);
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::exists(moved.path));
  CHECK(remove_superseded_files(dir, 3) == 0);

  // A later owner takes it over in place, above the marker's epoch.
  CHECK(take_ownership(moved.path, "n3", durability::normal, relocated_epoch(marker)) == 3);
  CHECK_THROWS_AS(new_owner.commit(next), fenced_error);
  // And relocates it again if need be, from the current file.
  auto again = relocate_shard(dir, 3, "n1", durability::normal);
  CHECK(again.epoch == 4);
  CHECK(holds(again.path, "next"));
}

TEST_CASE("a damaged relocation marker stops writes, never lets them by") {
  auto dir = fresh_dir("damaged-marker");
  auto path = shard_db_path(dir, 5);
  auto fence = fence_at(*take_ownership(path, "n1", durability::normal));
  entity_store owner(path, durability::normal, fence);
  auto w = one_write("x");
  owner.commit(w);
  std::ofstream(relocation_marker_path(dir, 5)) << "not a marker";
  CHECK(relocated_epoch(relocation_marker_path(dir, 5)) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK_THROWS_AS(current_shard_db(dir, 5), store_error);
  CHECK_THROWS_AS(owner.commit(w), fenced_error);
  // A marker naming a file that is gone is refused too.
  std::ofstream(relocation_marker_path(dir, 5), std::ios::trunc) << "9 shard-05.r9.db\n";
  CHECK_THROWS_AS(current_shard_db(dir, 5), store_error);
}

TEST_CASE("a backup takes a relocated shard from its current file, under its plain name") {
  auto dir = fresh_dir("backup-relocated");
  prepare_database(global_db_path(dir), durability::normal);
  auto path = shard_db_path(dir, 2);
  auto fence = fence_at(*take_ownership(path, "n1", durability::normal));
  auto w = one_write("kept");
  entity_store(path, durability::normal, fence).commit(w);
  auto moved = relocate_shard(dir, 2, "n2", durability::normal);
  // The old owner's commit after the move lands in the old file only.
  {
    connection late(path, durability::normal); // unfenced: as if it wrote anyway
    write_transaction tx(late);
    late.statement("INSERT INTO entities(kind, id, state) VALUES(1, 'stale', '{}')")->exec();
    tx.commit();
  }
  auto out = (fs::path{fresh_dir("backup-relocated-out")} / "b").string();
  auto manifest = make_backup(dir, out);
  std::vector<std::string> shard_names;
  for (const auto& f : manifest.files)
    if (f.name.starts_with("shard-"))
      shard_names.push_back(f.name);
  CHECK(shard_names == std::vector<std::string>{"shard-02.db"});
  auto restored = (fs::path{fresh_dir("backup-relocated-restored")} / "d").string();
  restore_backup(out, restored);
  CHECK(current_shard_db(restored, 2) == shard_db_path(restored, 2));
  CHECK(holds(shard_db_path(restored, 2), "kept"));
  CHECK_FALSE(holds(shard_db_path(restored, 2), "stale"));
  CHECK(shard_epoch(restored, 2, durability::normal) == moved.epoch);
}
