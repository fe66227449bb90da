// See text_index.hpp.
#include "actors/catalog/text_index.hpp"

#include <divsufsort.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

namespace emporium {

namespace {

constexpr char separator = '\0';

/// How the suffix starting at `offset` compares with `needle`: < 0 before
/// it, 0 when it starts with it, > 0 after it.
int compare_suffix(std::string_view texts, std::size_t offset, std::string_view needle) {
  auto rest = texts.size() - offset;
  auto len = std::min(rest, needle.size());
  if (int c = std::memcmp(texts.data() + offset, needle.data(), len); c != 0)
    return c;
  return rest < needle.size() ? -1 : 0;
}

} // namespace

void text_index::add(std::int64_t id, std::string_view text, std::int64_t price,
                     std::string_view category_key) {
  if (entries_.size() >= std::numeric_limits<position>::max() ||
      texts_.size() + text.size() + 1 > max_text_bytes)
    return;
  auto code = category_codes_
                .try_emplace(std::string{category_key},
                             static_cast<std::uint32_t>(category_codes_.size()))
                .first->second;
  entries_.push_back({id, price, code});
  texts_.append(text);
  texts_.push_back(separator);
  text_begin_.push_back(static_cast<std::uint32_t>(texts_.size()));
}

void text_index::build() {
  entries_.shrink_to_fit();
  texts_.shrink_to_fit();
  text_begin_.shrink_to_fit();
  sorted_.assign(texts_.size(), 0);
  if (texts_.empty())
    return;
  if (divsufsort(reinterpret_cast<const sauchar_t*>(texts_.data()), sorted_.data(),
                 static_cast<saidx_t>(texts_.size())) != 0)
    throw std::bad_alloc{}; // its only failure once the sizes are valid
  // The item each sorted suffix falls in: the number of items starting at
  // or before its offset, less one. Counted with one bit per text byte and
  // a running count per 64 (~2 MiB at 100,000 products) rather than a
  // table of the item at every byte (40 MiB more at the build's peak).
  auto words = (texts_.size() + 63) / 64;
  std::vector<std::uint64_t> starts(words);
  for (position p = 0; p < entries_.size(); ++p)
    starts[text_begin_[p] / 64] |= std::uint64_t{1} << (text_begin_[p] % 64);
  std::vector<std::uint32_t> starts_before(words);
  for (std::size_t w = 1; w < words; ++w)
    starts_before[w] =
      starts_before[w - 1] + static_cast<std::uint32_t>(std::popcount(starts[w - 1]));
  item_of_sorted_.resize(sorted_.size());
  for (std::size_t i = 0; i < sorted_.size(); ++i) {
    auto offset = static_cast<std::size_t>(sorted_[i]);
    auto upto = starts[offset / 64] & (~std::uint64_t{0} >> (63 - offset % 64));
    item_of_sorted_[i] = starts_before[offset / 64] + static_cast<position>(std::popcount(upto)) - 1;
  }
}

std::optional<std::uint32_t> text_index::category_code(std::string_view key) const {
  auto it = category_codes_.find(std::string{key});
  if (it == category_codes_.end())
    return std::nullopt;
  return it->second;
}

text_index::matches text_index::matching(const std::string& needle) const {
  if (auto known = remembered(needle))
    return known;
  if (needle.empty() || sorted_.empty())
    return remember(needle, {});
  // The suffixes that start with the needle are one range of the sorted
  // ones: where those before it end, and where those after it begin.
  auto before = std::partition_point(sorted_.begin(), sorted_.end(), [&](std::int32_t s) {
    return compare_suffix(texts_, static_cast<std::size_t>(s), needle) < 0;
  });
  auto after = std::partition_point(before, sorted_.end(), [&](std::int32_t s) {
    return compare_suffix(texts_, static_cast<std::size_t>(s), needle) <= 0;
  });
  auto from = static_cast<std::size_t>(before - sorted_.begin());
  auto to = static_cast<std::size_t>(after - sorted_.begin());
  bool may_span_items = needle.find(separator) != std::string::npos;
  return remember(needle, items_of(from, to, needle.size(), may_span_items));
}

std::vector<text_index::position> text_index::items_of(std::size_t from, std::size_t to,
                                                       std::size_t needle_size,
                                                       bool may_span_items) const {
  auto within_item = [&](std::size_t i) {
    if (!may_span_items)
      return true;
    auto end = std::size_t{text_begin_[item_of_sorted_[i] + 1]} - 1; // before its separator
    return static_cast<std::size_t>(sorted_[i]) + needle_size <= end;
  };
  std::vector<position> found;
  // A text holding the needle twice (a name repeated in the description)
  // has two suffixes in the range. A few are sorted and made unique; many
  // are marked in one bit per item and read back in order, which costs
  // the catalog's size / 64 words instead of a sort of thousands.
  if ((to - from) * 256 < entries_.size()) {
    for (auto i = from; i < to; ++i)
      if (within_item(i))
        found.push_back(item_of_sorted_[i]);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
  }
  std::vector<std::uint64_t> marked((entries_.size() + 63) / 64);
  for (auto i = from; i < to; ++i)
    if (within_item(i))
      marked[item_of_sorted_[i] / 64] |= std::uint64_t{1} << (item_of_sorted_[i] % 64);
  for (std::size_t word = 0; word < marked.size(); ++word)
    for (auto bits = marked[word]; bits != 0; bits &= bits - 1)
      found.push_back(static_cast<position>(word * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
  return found;
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
