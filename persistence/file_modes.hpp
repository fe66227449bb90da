// The data directory holds password hashes, token hashes and the JWT secret:
// only the node's own user may read it. New files get 0600 through the
// process umask; files and the directory from an older version are
// tightened at start-up.
#pragma once

#include <string>

namespace emporium::persistence {

/// Sets the process umask to 077 (files 0600, directories 0700 from now on).
void private_file_creation();

/// Makes `dir` 0700 and every file in it (recursively) at most 0600.
/// Returns the first problem, or an empty string.
std::string restrict_to_owner(const std::string& dir);

} // namespace emporium::persistence
