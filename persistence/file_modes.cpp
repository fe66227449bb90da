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
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto status = it->symlink_status(ec);
    if (ec)
      break;
    if (fs::is_directory(status))
      fs::permissions(it->path(), owner_only | fs::perms::owner_exec, fs::perm_options::replace, ec);
    else if (fs::is_regular_file(status))
      fs::permissions(it->path(), status.permissions() & owner_only, fs::perm_options::replace, ec);
    if (ec)
      return it->path().string() + ": " + ec.message();
  }
  return ec ? dir + ": " + ec.message() : std::string{};
}

} // namespace emporium::persistence
