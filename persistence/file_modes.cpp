// Owner-only data files (see file_modes.hpp).
#include "persistence/file_modes.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace emporium::persistence {

namespace fs = std::filesystem;

void private_file_creation() {
  ::umask(077);
}

std::string restrict_to_owner(const std::string& dir) {
  std::error_code ec;
  auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  fs::permissions(dir, owner_only | fs::perms::owner_exec, fs::perm_options::replace, ec);
  if (ec)
    return dir + ": " + ec.message();
  // Other nodes sharing the directory create and delete files meanwhile
  // (journals, WAL files): an entry that vanishes is skipped, not an error.
  std::error_code walk;
  for (auto it = fs::recursive_directory_iterator(dir, walk);
       !walk && it != fs::recursive_directory_iterator(); it.increment(walk)) {
    std::error_code entry;
    auto status = it->symlink_status(entry);
    if (entry)
      continue;
    if (fs::is_directory(status))
      fs::permissions(it->path(), owner_only | fs::perms::owner_exec, fs::perm_options::replace,
                      entry);
    else if (fs::is_regular_file(status) && (status.permissions() & ~owner_only) != fs::perms::none)
      fs::permissions(it->path(), status.permissions() & owner_only, fs::perm_options::replace,
                      entry);
  }
  return {};
}

} // namespace emporium::persistence
