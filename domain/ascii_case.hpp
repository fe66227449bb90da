// ASCII lower case, for what compares case-insensitively: emails (accounts
// and their shard), HTTP paths and header words, catalog search text.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace emporium {

inline std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

} // namespace emporium
