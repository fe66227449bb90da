// Online backups of a data directory, and their restore.
//
// A backup copies emporium.db and every shard file through SQLite's online
// backup API while nodes keep writing: a read transaction is opened on every
// file first, so the copies are snapshots taken within moments of each
// other, and a saga caught between two files resumes after a restore (its
// steps are idempotent). The shard count and the JWT secret go along (tokens
// stay valid after a restore). manifest.json is written last, so a backup
// without one is partial; it names each file with its size, SHA-256 and
// schema version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::persistence {

struct backup_file {
  std::string name; ///< a plain file name inside the backup directory
  std::uint64_t bytes = 0;
  std::string sha256; ///< hex
  int schema_version = 0; ///< PRAGMA user_version; 0 for files that are no database
};

struct backup_manifest {
  std::string created_at; ///< RFC 3339, UTC
  std::vector<backup_file> files;
};

/// The manifest in `text` (bytes read from disk, so hostile): nullopt with
/// `why` set unless it is one make_backup writes (format 1, plain names of a
/// data directory's files, each once with size, SHA-256 and schema version,
/// emporium.db among them).
std::optional<backup_manifest> parse_manifest(std::string_view text, std::string& why);

/// Backs `data_dir` up into `out_dir` (created; it must not exist or be
/// empty). Throws store_error with a message saying what failed.
backup_manifest make_backup(const std::string& data_dir, const std::string& out_dir);

/// Checks the backup in `from` (a manifest naming plain files, each present
/// with its size and SHA-256, each database whole and not newer than this
/// build) and only then copies it into `data_dir`, which must not exist or
/// be empty. Throws store_error with a message saying what is wrong; a
/// refused restore leaves `data_dir` as it was.
backup_manifest restore_backup(const std::string& from, const std::string& data_dir);

/// `emporium backup --data-dir D --out DIR` and `emporium restore --from DIR
/// --data-dir D`: prints what it did, returns the process exit code (0 done,
/// 1 failed, 2 bad usage).
int run_backup_command(int argc, char** argv);

} // namespace emporium::persistence
