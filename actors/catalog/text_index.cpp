// See text_index.hpp.
#include "actors/catalog/text_index.hpp"

#include <algorithm>
#include <iterator>
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

/// Keeps in `ids` (ascending) only those also in `list` (ascending),
/// galloping through `list` from where the previous id was found.
void keep_present(std::vector<std::uint32_t>& ids, const std::vector<std::uint32_t>& list) {
  auto from = list.begin();
  auto kept = ids.begin();
  for (auto id : ids) {
    // Double the step until past `id`, then binary search that stretch.
    std::size_t step = 1;
    auto hi = from;
    while (hi != list.end() && *hi < id) {
      from = hi;
      auto room = static_cast<std::size_t>(list.end() - hi);
      hi += static_cast<std::ptrdiff_t>(std::min(step, room));
      step *= 2;
    }
    from = std::lower_bound(from, hi == list.end() ? list.end() : hi + 1, id);
    if (from == list.end())
      break;
    if (*from == id)
      *kept++ = id;
  }
  ids.erase(kept, ids.end());
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
    // Shortest list first; each longer one is searched for the survivors
    // (galloping), so the cost follows the shortest list, not the longest:
    // a common piece such as "ett" lists thousands of items.
    std::sort(lists.begin(), lists.end(),
              [](const auto* a, const auto* b) { return a->size() < b->size(); });
    common = *lists.front();
    for (std::size_t i = 1; i < lists.size() && !common.empty(); ++i)
      keep_present(common, *lists[i]);
  }
  // Both ascending: a merge keeps the result ascending.
  std::vector<std::int64_t> ids;
  ids.reserve(common.size() + wide_.size());
  std::merge(common.begin(), common.end(), wide_.begin(), wide_.end(), std::back_inserter(ids));
  return ids;
}

text_index::matches text_index::remembered(const std::string& needle) const {
  std::lock_guard<std::mutex> guard{remembered_mutex_};
  auto it = remembered_.find(needle);
  return it == remembered_.end() ? nullptr : it->second;
}

text_index::matches text_index::remember(const std::string& needle,
                                         std::vector<std::int64_t> ids) const {
  auto kept = std::make_shared<const std::vector<std::int64_t>>(std::move(ids));
  if (kept->size() > max_remembered_ids)
    return kept; // too large to keep: the others stay
  std::lock_guard<std::mutex> guard{remembered_mutex_};
  if (auto it = remembered_.find(needle); it != remembered_.end())
    return it->second; // another thread was first: the same ids
  if (remembered_.size() >= max_remembered_needles ||
      remembered_ids_ + kept->size() > max_remembered_ids) {
    remembered_.clear();
    remembered_ids_ = 0;
  }
  remembered_ids_ += kept->size();
  remembered_.emplace(needle, kept);
  return kept;
}

} // namespace emporium
