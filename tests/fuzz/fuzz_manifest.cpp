// A backup's manifest.json, read back from disk by `emporium restore`: it
// is refused with a reason, or it names only plain files of a data
// directory, each once, with a 64-character SHA-256, emporium.db among them.
#include "tests/fuzz/fuzz_check.hpp"
#include "persistence/backup.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using emporium::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string why;
  auto m = emporium::persistence::parse_manifest(
    std::string_view{reinterpret_cast<const char*>(data), size}, why);
  if (!m) {
    check(!why.empty());
    return 0;
  }
  check(!m->files.empty());
  bool has_global = false;
  for (std::size_t i = 0; i < m->files.size(); ++i) {
    const auto& f = m->files[i];
    check(!f.name.empty() && f.name.find('/') == std::string::npos && f.name.front() != '.');
    check(f.sha256.size() == 64);
    has_global |= f.name == "emporium.db";
    for (std::size_t j = 0; j < i; ++j)
      check(m->files[j].name != f.name);
  }
  check(has_global);
  return 0;
}
