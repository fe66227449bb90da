// Current shard files and relocation (see shard_files.hpp).
#include "persistence/shard_files.hpp"

#include "persistence/fencing.hpp"
#include "persistence/file_lock.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace emporium::persistence {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_marker_bytes = 128;
constexpr std::int64_t max_epoch = std::int64_t{1} << 62;

std::optional<std::int64_t> parse_epoch(std::string_view digits) {
  if (digits.empty() || digits.size() > 19 || digits.front() == '0')
    return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size() || v <= 0 || v >= max_epoch)
    return std::nullopt;
  return v;
}

std::string shard_prefix(std::uint32_t shard) {
  return fmt::format("shard-{:02}.", shard);
}

/// The epoch in `shard-NN.r<epoch>.db`, a relocated file of this shard.
std::optional<std::int64_t> relocated_file_epoch(std::string_view name, std::uint32_t shard) {
  auto prefix = shard_prefix(shard);
  if (!name.starts_with(prefix))
    return std::nullopt;
  auto rest = name.substr(prefix.size());
  if (rest.size() < 5 || rest.front() != 'r' || !rest.ends_with(".db"))
    return std::nullopt;
  return parse_epoch(rest.substr(1, rest.size() - 4));
}

/// `shard-NN.db` or `shard-NN.r<epoch>.db` of this shard.
bool names_shard_db(std::string_view name, std::uint32_t shard) {
  return name == shard_prefix(shard) + "db" || relocated_file_epoch(name, shard).has_value();
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    throw store_error(fmt::format("cannot open {} to sync it", path));
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok)
    throw store_error(fmt::format("cannot sync {}", path));
}

/// Replaces the marker atomically (write, sync, rename, sync the directory).
void write_marker(const std::string& path, const shard_relocation& r) {
  auto tmp = path + ".tmp";
  auto text = format_relocation(r);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw store_error(fmt::format("cannot write {}", tmp));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    throw store_error(fmt::format("cannot write {}", path));
  fsync_path(fs::path{path}.parent_path().string(), O_RDONLY | O_DIRECTORY);
}

/// The marker's text, nullopt when there is none; throws when unreadable.
std::optional<std::string> read_marker(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return std::nullopt;
    throw store_error(fmt::format("cannot read {}", path));
  }
  char buf[max_marker_bytes + 1];
  auto n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0)
    throw store_error(fmt::format("cannot read {}", path));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<shard_relocation> marker_of(const std::string& data_dir, std::uint32_t shard) {
  auto path = relocation_marker_path(data_dir, shard);
  auto text = read_marker(path);
  if (!text)
    return std::nullopt;
  auto r = parse_relocation(*text, shard);
  if (!r)
    throw store_error(fmt::format("{} is damaged: it names no file of shard {}", path, shard));
  return r;
}

} // namespace

std::optional<shard_relocation> parse_relocation(std::string_view text, std::uint32_t shard) {
  if (text.size() > max_marker_bytes || !text.ends_with('\n'))
    return std::nullopt;
  text.remove_suffix(1);
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto epoch = parse_epoch(text.substr(0, space));
  auto file = text.substr(space + 1);
  if (!epoch || !names_shard_db(file, shard))
    return std::nullopt;
  // A relocated file's epoch is the one that relocation raised: never above
  // the marker's, which is the shard's highest.
  auto own = relocated_file_epoch(file, shard);
  if (own && *own > *epoch)
    return std::nullopt;
  return shard_relocation{*epoch, std::string{file}};
}

std::string format_relocation(const shard_relocation& r) {
  return fmt::format("{} {}\n", r.epoch, r.file);
}

std::string relocation_marker_path(const std::string& data_dir, std::uint32_t shard) {
  return fmt::format("{}/shard-{:02}.moved", data_dir, shard);
}

std::optional<std::uint32_t> shard_of_file(std::string_view name) {
  if (!name.starts_with("shard-"))
    return std::nullopt;
  auto rest = name.substr(6);
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 9)
    return std::nullopt;
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, v);
  if (ec != std::errc{} || end != rest.data() + dot)
    return std::nullopt;
  return v;
}

std::string relocation_marker_for(const std::string& db_path) {
  fs::path p{db_path};
  auto shard = shard_of_file(p.filename().string());
  if (!shard || !names_shard_db(p.filename().string(), *shard))
    return {};
  return relocation_marker_path(p.parent_path().string(), *shard);
}

std::int64_t relocated_epoch(const std::string& marker_path) {
  struct stat st;
  if (::stat(marker_path.c_str(), &st) != 0 && errno == ENOENT)
    return 0; // the common case: one stat per commit
  auto shard = shard_of_file(fs::path{marker_path}.filename().string());
  try {
    auto text = read_marker(marker_path);
    if (!text)
      return 0; // removed between the stat and the read
    if (shard)
      if (auto r = parse_relocation(*text, *shard))
        return r->epoch;
  } catch (const store_error&) {
  }
  return std::numeric_limits<std::int64_t>::max();
}

std::string current_shard_db(const std::string& data_dir, std::uint32_t shard) {
  auto marker = marker_of(data_dir, shard);
  if (!marker)
    return shard_db_path(data_dir, shard);
  auto path = data_dir + "/" + marker->file;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw store_error(fmt::format("{} names {}, which is missing",
                                  relocation_marker_path(data_dir, shard), marker->file));
  return path;
}

std::string current_file_of(const std::string& path) {
  fs::path p{path};
  auto shard = shard_of_file(p.filename().string());
  if (!shard || p.filename().string() != shard_prefix(*shard) + "db")
    return path;
  return current_shard_db(p.parent_path().string(), *shard);
}

std::int64_t shard_epoch(const std::string& data_dir, std::uint32_t shard, durability level) {
  auto marker = marker_of(data_dir, shard);
  auto in_file = current_ownership(current_shard_db(data_dir, shard), level).epoch;
  return std::max(in_file, marker ? marker->epoch : 0);
}

relocated_shard relocate_shard(const std::string& data_dir, std::uint32_t shard,
                               const std::string& node, durability level) {
  auto lock = file_lock::try_acquire(fmt::format("{}/shard-{:02}.relocating", data_dir, shard));
  if (!lock)
    throw store_error(fmt::format("shard {} is being relocated by another process", shard));
  auto source = current_shard_db(data_dir, shard);
  auto marker_path = relocation_marker_path(data_dir, shard);
  auto epoch = shard_epoch(data_dir, shard, level) + 1;
  // 1. The claim: writers below `epoch` are fenced from here on, and the
  // copy below starts after it, so it holds every write they acknowledged.
  write_marker(marker_path, {epoch, fs::path{source}.filename().string()});
  // 2. The copy: committed state only (a WAL reader never sees a frozen
  // writer's uncommitted frames, and never waits for its lock).
  auto name = fmt::format("shard-{:02}.r{}.db", shard, epoch);
  auto target = data_dir + "/" + name;
  auto tmp = target + ".tmp";
  for (const auto* suffix : {"", "-wal", "-shm"})
    fs::remove(tmp + suffix);
  try {
    {
      SQLite::Database from(source, SQLite::OPEN_READWRITE);
      from.setBusyTimeout(1000);
      SQLite::Database to(tmp, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      SQLite::Backup(to, from).executeStep(-1);
    }
    {
      record_epoch(*open_database(tmp, level), epoch, node);
    } // the last connection closes: WAL checkpointed into the file, removed
    fsync_path(tmp, O_RDONLY);
    fs::rename(tmp, target);
    fsync_path(data_dir, O_RDONLY | O_DIRECTORY);
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error(fmt::format("cannot copy {} to {}: {}", source, name, e.what()));
  }
  // 3. The copy is the shard now.
  write_marker(marker_path, {epoch, name});
  return {target, epoch};
}

int remove_superseded_files(const std::string& data_dir, std::uint32_t shard) {
  auto current = fs::path{current_shard_db(data_dir, shard)}.filename().string();
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    auto name = entry.path().filename().string();
    auto base = name;
    for (std::string_view suffix : {"-wal", "-shm", ".tmp"})
      if (std::string_view{base}.ends_with(suffix))
        base.resize(base.size() - suffix.size());
    if (base == current || !names_shard_db(base, shard))
      continue;
    std::error_code gone;
    removed += fs::remove(entry.path(), gone) ? 1 : 0;
  }
  return removed;
}

} // namespace emporium::persistence
