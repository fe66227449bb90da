// Online backups and restores of a data directory (see backup.hpp).
#include "persistence/backup.hpp"

#include "persistence/database.hpp"
#include "persistence/file_lock.hpp"
#include "persistence/file_modes.hpp"
#include "persistence/shard_files.hpp"
#include "support/json_field.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

namespace emporium::persistence {

namespace fs = std::filesystem;

namespace {

constexpr const char* manifest_name = "manifest.json";
constexpr std::uintmax_t max_manifest_bytes = 1 << 20;

bool is_database(const std::string& name) {
  return name == "emporium.db" ||
         (name.rfind("shard-", 0) == 0 && name.size() > 9 && name.ends_with(".db"));
}

/// What a backup carries besides the databases.
bool is_kept_file(const std::string& name) {
  return name == "shards" || name == "jwt.secret";
}

/// A manifest names files inside its own directory, nothing else.
bool is_plain_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name.front() != '.' &&
         name.find_first_of("/\\") == std::string::npos;
}

std::string hex_sha256(const fs::path& path, std::uint64_t& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw store_error(fmt::format("cannot read {}", path.string()));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 16);
  bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = static_cast<std::size_t>(in.gcount());
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()), got);
    bytes += got;
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, digest);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void restrict_all(const fs::path& dir) {
  if (auto problem = restrict_to_owner(dir.string()); !problem.empty())
    throw store_error(problem);
}

void require_empty_or_absent(const fs::path& dir, const char* what) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return;
  if (!fs::is_directory(dir, ec))
    throw store_error(fmt::format("{} {} exists and is not a directory", what, dir.string()));
  if (!fs::is_empty(dir, ec))
    throw store_error(
      fmt::format("{} {} is not empty: refusing to overwrite anything", what, dir.string()));
}

/// Creates `dir` for the node's user alone (files in it follow the umask
/// that run_backup_command sets; restrict_all tightens what was copied).
void make_private_dir(const fs::path& dir) {
  fs::create_directories(dir);
  restrict_all(dir);
}

std::string now_rfc3339() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

int schema_version_of(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

backup_file describe(const fs::path& dir, const std::string& name, int version) {
  backup_file f{name, 0, {}, version};
  f.sha256 = hex_sha256(dir / name, f.bytes);
  return f;
}

void write_manifest(const fs::path& dir, const backup_manifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files)
    files.push_back({{"name", f.name},
                     {"bytes", f.bytes},
                     {"sha256", f.sha256},
                     {"schemaVersion", f.schema_version}});
  nlohmann::json doc{{"format", 1}, {"createdAt", m.created_at}, {"files", files}};
  auto partial = dir / (std::string{manifest_name} + ".part");
  {
    std::ofstream out(partial, std::ios::trunc);
    out << json_read::dump(doc) << '\n';
    if (!out.flush())
      throw store_error(fmt::format("cannot write {}", partial.string()));
  }
  fs::rename(partial, dir / manifest_name); // last: its presence means complete
}

/// The manifest in `dir`; refused with a store_error naming the file.
backup_manifest read_manifest(const fs::path& dir) {
  auto path = dir / manifest_name;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw store_error(fmt::format(
      "{} has no {}: not a backup, or one that did not finish", dir.string(), manifest_name));
  if (fs::file_size(path, ec) > max_manifest_bytes)
    throw store_error(fmt::format("{} is too large to be a manifest", path.string()));
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string why;
  auto m = parse_manifest(text, why);
  if (!m)
    throw store_error(fmt::format("{} is not a valid manifest: {}", path.string(), why));
  return std::move(*m);
}

/// Every file as the manifest says, every database whole and readable by
/// this build; `staged` holds the copies.
void verify_copies(const fs::path& staged, const backup_manifest& m) {
  for (const auto& f : m.files) {
    std::uint64_t bytes = 0;
    std::error_code ec;
    if (!fs::is_regular_file(staged / f.name, ec))
      throw store_error(fmt::format("the backup lacks {} (named in its manifest)", f.name));
    if (hex_sha256(staged / f.name, bytes) != f.sha256 || bytes != f.bytes)
      throw store_error(fmt::format(
        "{} does not match its size or SHA-256 in the manifest: the backup is damaged", f.name));
    if (!is_database(f.name))
      continue;
    if (f.schema_version > current_schema_version())
      throw store_error(fmt::format("{} is from a newer Emporium (schema {}, this build {})",
                                    f.name, f.schema_version, current_schema_version()));
    SQLite::Database db((staged / f.name).string(), SQLite::OPEN_READWRITE);
    auto check = db.execAndGet("PRAGMA integrity_check").getString();
    if (check != "ok")
      throw store_error(fmt::format("{} fails SQLite's integrity check: {}", f.name, check));
  }
}

} // namespace

std::optional<backup_manifest> parse_manifest(std::string_view text, std::string& why) {
  auto refuse = [&](std::string reason) {
    why = std::move(reason);
    return std::optional<backup_manifest>{};
  };
  if (text.size() > max_manifest_bytes)
    return refuse("too large");
  auto doc = json_read::parse(text);
  if (!doc || json_read::field<int>(*doc, "format") != 1)
    return refuse("not JSON of format 1");
  backup_manifest m;
  m.created_at = json_read::field<std::string>(*doc, "createdAt").value_or("");
  const auto* files = json_read::member(*doc, "files");
  if (!files || !files->is_array() || files->empty())
    return refuse("no files");
  for (const auto& f : *files) {
    auto name = json_read::field<std::string>(f, "name");
    auto bytes = json_read::field<std::uint64_t>(f, "bytes");
    auto sha = json_read::field<std::string>(f, "sha256");
    auto version = json_read::field<int>(f, "schemaVersion");
    if (!name || !is_plain_name(*name) || !(is_database(*name) || is_kept_file(*name)))
      return refuse("a file name that is not one of a data directory's");
    if (!bytes || !sha || sha->size() != 64 || !version)
      return refuse(fmt::format("{}: size, SHA-256 or schema version missing", *name));
    bool twice = std::any_of(m.files.begin(), m.files.end(),
                             [&](const backup_file& seen) { return seen.name == *name; });
    if (twice)
      return refuse(fmt::format("{} is named twice", *name));
    m.files.push_back({*name, *bytes, *sha, *version});
  }
  bool has_global = std::any_of(m.files.begin(), m.files.end(),
                                [](const backup_file& f) { return f.name == "emporium.db"; });
  if (!has_global)
    return refuse("emporium.db is missing");
  return m;
}

backup_manifest make_backup(const std::string& data_dir, const std::string& out_dir) {
  fs::path src{data_dir}, out{out_dir};
  std::error_code ec;
  if (!fs::is_regular_file(src / "emporium.db", ec))
    throw store_error(fmt::format("{} holds no Emporium data (no emporium.db)", data_dir));
  require_empty_or_absent(out, "backup directory");
  make_private_dir(out);
  // Each shard once, from the file that holds it now (a relocation may have
  // left an older one), under its plain name: a restore needs no marker.
  std::vector<std::string> databases, kept;
  std::map<std::string, std::string> source_of; // backup name -> data-dir file
  for (const auto& entry : fs::directory_iterator(src)) {
    auto name = entry.path().filename().string();
    if (name == "emporium.db") {
      source_of[name] = entry.path().string();
    } else if (auto shard = shard_of_file(name); shard && is_database(name)) {
      auto plain = fs::path{shard_db_path(data_dir, *shard)}.filename().string();
      source_of[plain] = current_shard_db(data_dir, *shard);
    } else if (is_kept_file(name)) {
      kept.push_back(name);
    }
  }
  for (const auto& [name, path] : source_of)
    databases.push_back(name);
  try {
    // A read transaction on every file first: the copies are snapshots
    // taken within moments of each other, while writers go on.
    std::vector<std::unique_ptr<SQLite::Database>> sources;
    for (const auto& name : databases) {
      auto db = std::make_unique<SQLite::Database>(source_of[name], SQLite::OPEN_READWRITE);
      db->setBusyTimeout(10'000);
      db->exec("BEGIN");
      db->execAndGet("SELECT COUNT(*) FROM sqlite_master");
      sources.push_back(std::move(db));
    }
    backup_manifest m;
    m.created_at = now_rfc3339();
    for (std::size_t i = 0; i < databases.size(); ++i) {
      int version = 0;
      {
        SQLite::Database copy((out / databases[i]).string(),
                              SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        SQLite::Backup(copy, *sources[i]).executeStep(-1);
        // One file, as a restore wants it, not a database plus its WAL.
        copy.exec("PRAGMA journal_mode=DELETE");
        version = schema_version_of(copy);
      }
      sources[i]->exec("COMMIT");
      m.files.push_back(describe(out, databases[i], version));
    }
    for (const auto& name : kept) {
      fs::copy_file(src / name, out / name, fs::copy_options::overwrite_existing);
      m.files.push_back(describe(out, name, 0));
    }
    restrict_all(out);
    write_manifest(out, m);
    return m;
  } catch (const SQLite::Exception& e) {
    throw store_error(fmt::format("backup of {} failed: {}", data_dir, e.what()));
  } catch (const fs::filesystem_error& e) {
    throw store_error(fmt::format("backup of {} failed: {}", data_dir, e.what()));
  }
}

backup_manifest restore_backup(const std::string& from, const std::string& data_dir) {
  fs::path in{from}, target{data_dir};
  auto m = read_manifest(in);
  require_empty_or_absent(target, "data directory");
  auto parent = target.has_parent_path() ? target.parent_path() : fs::path{"."};
  auto staged = parent / fmt::format(".{}.restoring-{}", target.filename().string(), ::getpid());
  std::error_code ec;
  fs::remove_all(staged, ec);
  try {
    make_private_dir(staged);
    for (const auto& f : m.files) {
      if (!fs::is_regular_file(in / f.name, ec))
        throw store_error(fmt::format("the backup lacks {} (named in its manifest)", f.name));
      fs::copy_file(in / f.name, staged / f.name);
    }
    restrict_all(staged);
    verify_copies(staged, m);
    if (!fs::exists(target, ec)) {
      fs::rename(staged, target);
    } else {
      for (const auto& f : m.files)
        fs::rename(staged / f.name, target / f.name);
      fs::remove_all(staged, ec);
    }
    return m;
  } catch (const store_error&) {
    fs::remove_all(staged, ec);
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(staged, ec);
    throw store_error(fmt::format("restore into {} failed: {}", data_dir, e.what()));
  }
}

int run_backup_command(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "";
  std::string data_dir, other;
  const char* other_flag = command == "backup" ? "--out" : "--from";
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto take = [&](const std::string& flag, std::string& into) {
      if (arg == flag && i + 1 < argc) {
        into = argv[++i];
        return true;
      }
      if (arg.rfind(flag + "=", 0) == 0) {
        into = arg.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (!take("--data-dir", data_dir) && !take(other_flag, other)) {
      fmt::print(stderr, "emporium {}: unknown argument {}\n", command, arg);
      return 2;
    }
  }
  if (data_dir.empty() || other.empty()) {
    fmt::print(stderr,
               "usage: emporium backup --data-dir DIR --out BACKUP_DIR\n"
               "       emporium restore --from BACKUP_DIR --data-dir DIR\n");
    return 2;
  }
  private_file_creation(); // what a backup holds is as private as the data directory
  try {
    auto m = command == "backup" ? make_backup(data_dir, other) : restore_backup(other, data_dir);
    std::uint64_t total = 0;
    for (const auto& f : m.files)
      total += f.bytes;
    fmt::print("{} {}: {} files, {} bytes (backup of {})\n",
               command == "backup" ? "backed up into" : "restored into",
               command == "backup" ? other : data_dir, m.files.size(), total, m.created_at);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium {}: {}\n", command, e.what());
    return 1;
  }
}

} // namespace emporium::persistence
