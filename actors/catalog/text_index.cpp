// See text_index.hpp.
#include "actors/catalog/text_index.hpp"

#include <algorithm>
#include <limits>

namespace emporium {

namespace {

std::uint32_t trigram_at(std::string_view text, std::size_t i) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(text[i + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(text[i + 2]));
}

/// The distinct trigrams of `text`, ascending, into `grams` (reused by the
/// caller: building an index calls this once per item).
void trigrams_of(std::string_view text, std::vector<std::uint32_t>& grams) {
  grams.clear();
  if (text.size() < text_index::min_needle)
    return;
  for (std::size_t i = 0; i + 2 < text.size(); ++i)
    grams.push_back(trigram_at(text, i));
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
}

} // namespace

void text_index::add(std::int64_t id, std::string_view text) {
  if (id < 0 || id > std::numeric_limits<std::uint32_t>::max()) {
    wide_.push_back(id);
    return;
  }
  trigrams_of(text, scratch_);
  for (auto gram : scratch_)
    postings_[gram].push_back(static_cast<std::uint32_t>(id));
}

void text_index::shrink() {
  for (auto& [gram, ids] : postings_)
    ids.shrink_to_fit();
  scratch_ = {};
}

std::vector<std::int64_t> text_index::candidates(std::string_view needle) const {
  std::vector<std::uint32_t> grams;
  trigrams_of(needle, grams);
  std::vector<const std::vector<std::uint32_t>*> lists;
  for (auto gram : grams) {
    auto it = postings_.find(gram);
    if (it == postings_.end()) {
      lists.clear(); // a piece no item has: only the wide ids remain
      break;
    }
    lists.push_back(&it->second);
  }
  std::vector<std::uint32_t> common;
  if (!lists.empty()) {
    std::sort(lists.begin(), lists.end(),
              [](const auto* a, const auto* b) { return a->size() < b->size(); });
    common = *lists.front();
    std::vector<std::uint32_t> next;
    for (std::size_t i = 1; i < lists.size() && !common.empty(); ++i) {
      next.clear();
      std::set_intersection(common.begin(), common.end(), lists[i]->begin(), lists[i]->end(),
                            std::back_inserter(next));
      common.swap(next);
    }
  }
  std::vector<std::int64_t> ids(common.begin(), common.end());
  ids.insert(ids.end(), wide_.begin(), wide_.end());
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace emporium
