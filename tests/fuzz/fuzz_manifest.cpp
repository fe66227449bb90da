// Files of a data directory read back from disk, as a node or a tool finds
// them. A backup's manifest.json (`emporium restore`): it is refused with a
// reason, or it names only plain files of a data directory, each once, with
// a 64-character SHA-256, emporium.db among them. A shard's relocation
// marker (shard-NN.moved): refused, or an epoch in range and a file of
// that shard, which reads back the same once written again.
#include "tests/fuzz/fuzz_check.hpp"
#include "persistence/backup.hpp"
#include "persistence/shard_files.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using emporium::fuzz::check;

namespace {

void check_marker(std::string_view text) {
  namespace p = emporium::persistence;
  auto r = p::parse_relocation(text, 3);
  if (!r)
    return;
  check(r->epoch > 0 && r->epoch < (std::int64_t{1} << 62));
  check(r->file == "shard-03.db" || (r->file.starts_with("shard-03.r") && r->file.ends_with(".db")));
  check(r->file.find('/') == std::string::npos);
  check(p::parse_relocation(p::format_relocation(*r), 3) == r);
  check(!p::parse_relocation(text, 4)); // never another shard's
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  check_marker(text);
  std::string why;
  auto m = emporium::persistence::parse_manifest(text, why);
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
