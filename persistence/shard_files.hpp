// Which file holds a shard now, and moving a shard to a new file when its
// old one cannot be written.
//
// Epochs (fencing.hpp) fence a former owner through the file itself, which
// needs SQLite's write lock. A node frozen inside a write transaction keeps
// that lock until it runs again, so its shard could not be taken over until
// it thawed or died. Instead, the new owner relocates the shard:
//
//   1. it writes the marker `shard-NN.moved` ("<epoch> <file>") naming a
//      new epoch E above every epoch of the shard, still naming the old
//      file: from now on every writer below E is fenced (below);
//   2. copies the old file's committed state (SQLite's backup API; WAL
//      readers never wait for the writer) into `shard-NN.rE.db`, records
//      epoch E in the copy, and renames it into place;
//   3. rewrites the marker to name the copy, which is the shard from now on.
//
// Every fenced connection checks the marker after each COMMIT (a stat when
// there is none). The frozen writer's transaction, once it thaws, commits
// into the old file, which nobody reads any more, and then finds the marker
// and reports the write as failed: nothing it acknowledges is lost. A write
// that committed before step 1 was seen by the copy in step 2, since the
// copy began after the marker. The old files are removed once the new
// owner holds the shard's lock (its former holder let go of everything).
#pragma once

#include "persistence/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emporium::persistence {

/// The marker's content: the shard's highest epoch and the file it names.
struct shard_relocation {
  std::int64_t epoch = 0;
  std::string file; // a plain name in the data directory
  friend bool operator==(const shard_relocation&, const shard_relocation&) = default;
};

/// The marker's text (bytes read from disk, so hostile): nullopt unless it
/// is "<epoch> <file>\n" with 0 < epoch < 2^62 and `file` one of this
/// shard's database names (`shard-NN.db` or `shard-NN.r<epoch>.db`).
std::optional<shard_relocation> parse_relocation(std::string_view text, std::uint32_t shard);
std::string format_relocation(const shard_relocation& r);

std::string relocation_marker_path(const std::string& data_dir, std::uint32_t shard);
/// The shard number in a data directory file's name ("shard-NN.<...>").
std::optional<std::uint32_t> shard_of_file(std::string_view name);
/// The marker of the shard whose database is `db_path`; "" for a file that
/// is no shard's (emporium.db).
std::string relocation_marker_for(const std::string& db_path);

/// The marker's epoch; 0 when there is none. A marker that cannot be read
/// fences everyone (the highest epoch): a damaged marker must stop writes,
/// never let a superseded writer through.
std::int64_t relocated_epoch(const std::string& marker_path);

/// The file that holds `shard` now: the marker's, else `shard-NN.db`.
/// Throws store_error when the marker is damaged or names a missing file.
std::string current_shard_db(const std::string& data_dir, std::uint32_t shard);

/// For a shard's plain path (`dir/shard-NN.db`, as shard_db_path names
/// it), the file that holds it now; any other path as it is.
std::string current_file_of(const std::string& path);

/// The shard's highest epoch: its current file's or the marker's.
std::int64_t shard_epoch(const std::string& data_dir, std::uint32_t shard, durability level);

struct relocated_shard {
  std::string path;
  std::int64_t epoch = 0;
};

/// Steps 1-3 above, for `node`. Throws store_error when it cannot (another
/// node is relocating the shard right now, the disk is full...); the
/// marker may then name the old file with the new epoch, which fences the
/// old writer and leaves the old file current for the next attempt.
relocated_shard relocate_shard(const std::string& data_dir, std::uint32_t shard,
                               const std::string& node, durability level);

/// Removes the shard's files that are not its current one (left by a
/// relocation). Only for the holder of the shard's lock. Returns how many.
int remove_superseded_files(const std::string& data_dir, std::uint32_t shard);

} // namespace emporium::persistence
