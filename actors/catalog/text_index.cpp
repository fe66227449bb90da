// See text_index.hpp.
#include "actors/catalog/text_index.hpp"

#include <algorithm>
#include <cstring>
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
void keep_present(std::vector<text_index::position>& ids,
                  const std::vector<text_index::position>& list) {
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

void text_index::add(std::int64_t id, std::string_view text, std::int64_t price,
                     std::string_view category_key) {
  // Positions are 32 bits: a catalog of 4 billion items is not indexed
  // past that (those items are simply not found by a search).
  if (entries_.size() >= std::numeric_limits<position>::max())
    return;
  auto p = static_cast<position>(entries_.size());
  auto code = category_codes_
                .try_emplace(std::string{category_key},
                             static_cast<std::uint32_t>(category_codes_.size()))
                .first->second;
  entries_.push_back({id, price, code});
  texts_.append(text);
  text_begin_.push_back(texts_.size());
  for (unsigned char c : text)
    ++byte_counts_[c];
  trigrams_of(text, scratch_);
  for (auto gram : scratch_)
    postings_[gram].push_back(p);
}

void text_index::shrink() {
  for (auto& [gram, positions] : postings_)
    positions.shrink_to_fit();
  entries_.shrink_to_fit();
  texts_.shrink_to_fit();
  text_begin_.shrink_to_fit();
  scratch_ = {};
}

std::optional<std::uint32_t> text_index::category_code(std::string_view key) const {
  auto it = category_codes_.find(std::string{key});
  if (it == category_codes_.end())
    return std::nullopt;
  return it->second;
}

std::vector<text_index::position> text_index::candidates(std::string_view needle) const {
  std::vector<std::uint32_t> grams;
  trigrams_of(needle, grams);
  std::vector<const std::vector<position>*> lists;
  for (auto gram : grams) {
    auto it = postings_.find(gram);
    if (it == postings_.end())
      return {}; // a piece no item has
    lists.push_back(&it->second);
  }
  if (lists.empty())
    return {};
  // Shortest list first; each longer one is searched for the survivors
  // (galloping), so the cost follows the shortest list, not the longest:
  // a common piece such as "ett" lists thousands of items. Once a list
  // takes away fewer than 1 in 8 of the survivors, the longer ones are
  // left out: every candidate's text is checked anyway, and searching
  // the 17 lists of "mechanical keyboard" for survivors that hold all of
  // them cost more than the checks it spared (a quarter of a search's
  // time at 100,000 products).
  std::sort(lists.begin(), lists.end(),
            [](const auto* a, const auto* b) { return a->size() < b->size(); });
  auto common = *lists.front();
  for (std::size_t i = 1; i < lists.size() && !common.empty(); ++i) {
    auto before = common.size();
    keep_present(common, *lists[i]);
    if (common.size() > before - before / 8)
      break;
  }
  return common;
}

text_index::matches text_index::matching(const std::string& needle) const {
  if (auto known = remembered(needle))
    return known;
  auto found = candidates(needle);
  // Each candidate is checked from the needle's rarest byte: find() looks
  // for the first byte and compares from each one, and a needle such as
  // "oard" starts with one of the commonest letters (the checks were 40%
  // of a search's time at 100,000 products; glibc's memmem was slower
  // still on texts this short).
  std::size_t anchor = 0;
  for (std::size_t i = 1; i < needle.size(); ++i)
    if (byte_counts_[static_cast<unsigned char>(needle[i])] <
        byte_counts_[static_cast<unsigned char>(needle[anchor])])
      anchor = i;
  auto holds = [&](std::string_view text) {
    if (text.size() < needle.size())
      return false;
    const char* at = text.data() + anchor;
    const char* last = text.data() + (text.size() - needle.size()) + anchor; // inclusive
    while (at <= last) {
      at = static_cast<const char*>(
        std::memchr(at, needle[anchor], static_cast<std::size_t>(last - at) + 1));
      if (at == nullptr)
        return false;
      if (std::memcmp(at - anchor, needle.data(), needle.size()) == 0)
        return true;
      ++at;
    }
    return false;
  };
  found.erase(std::remove_if(found.begin(), found.end(),
                             [&](position p) { return !holds(text_at(p)); }),
              found.end());
  return remember(needle, std::move(found));
}

text_index::matches text_index::remembered(const std::string& needle) const {
  std::lock_guard<std::mutex> guard{remembered_mutex_};
  auto it = remembered_.find(needle);
  return it == remembered_.end() ? nullptr : it->second;
}

text_index::matches text_index::remember(const std::string& needle,
                                         std::vector<position> found) const {
  auto kept = std::make_shared<const std::vector<position>>(std::move(found));
  if (kept->size() > max_remembered_matches)
    return kept; // too large to keep: the others stay
  std::lock_guard<std::mutex> guard{remembered_mutex_};
  if (auto it = remembered_.find(needle); it != remembered_.end())
    return it->second; // another thread was first: the same ids
  if (remembered_.size() >= max_remembered_needles ||
      remembered_count_ + kept->size() > max_remembered_matches) {
    remembered_.clear();
    remembered_count_ = 0;
  }
  remembered_count_ += kept->size();
  remembered_.emplace(needle, kept);
  return kept;
}

} // namespace emporium
