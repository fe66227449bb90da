// The catalog's search index as of one build: a suffix array over every
// item's text, so that a substring search finds its matches as one range
// of sorted suffixes (two binary searches) instead of scanning every item
// (at 100,000 products a scan was 174 queries/s with a 437 ms p99; see
// docs/benchmarks.md), and a flat copy, per item, of what a search
// filters and ranks by (its price and category). A search's matches are
// found, filtered and ranked in these arrays; only the items of the page
// it returns are looked up.
//
// Before the suffix array, trigram lists gave candidates whose texts were
// each checked: at 100,000 products those checks and the lists'
// intersection were half of a search's time for a needle not remembered.
// The suffix array has no candidates to check: every suffix in the range
// is a match, and the item it belongs to is stored beside it.
//
// Built from a whole catalog; product text and price change rarely (stock
// changes do not touch them), so a snapshot keeps the index it was built
// with plus the ids changed or erased since, which a search checks
// directly, and the catalog rebuilds the index once that list grows
// (catalog_view.cpp). The matches of recent needles are remembered with
// the index, so a repeated search (the storefront's popular terms) skips
// the range's walk.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace emporium {

class text_index {
public:
  /// An item's place in the index: items are added in ascending id order,
  /// so ascending positions are ascending ids.
  using position = std::uint32_t;

  /// What a search filters and ranks an indexed item by.
  struct entry {
    std::int64_t id = 0;
    std::int64_t price = 0;     // cents
    std::uint32_t category = 0; // a code: see category_code()
  };

  /// Adds an item; ids must come in ascending order (the catalog's order).
  /// `text` and `category_key` are already lower-cased.
  void add(std::int64_t id, std::string_view text, std::int64_t price,
           std::string_view category_key);

  /// Sorts the suffixes of every text added: once, after the last add and
  /// before the first search (an index not built finds nothing).
  void build();

  std::size_t size() const {
    return entries_.size();
  }
  const entry& at(position p) const {
    return entries_[p];
  }
  /// The code of a lower-cased category, or none when no indexed item is
  /// in it.
  std::optional<std::uint32_t> category_code(std::string_view key) const;

  /// Positions whose indexed text contains `needle`, ascending.
  using matches = std::shared_ptr<const std::vector<position>>;
  /// Remembered, or found now and remembered, for the index's lifetime: an
  /// indexed text only changes through an edit, which the snapshot lists
  /// as unindexed (checked on every search) until the next build makes a
  /// new index.
  matches matching(const std::string& needle) const;
  /// Null when not remembered.
  matches remembered(const std::string& needle) const;
  /// Remembers `found` (ascending) for `needle` and gives it back. Bounded:
  /// past max_remembered_needles needles or max_remembered_matches
  /// positions in all, everything is forgotten first (any client may search
  /// for anything).
  matches remember(const std::string& needle, std::vector<position> found) const;

  static constexpr std::size_t max_remembered_needles = 256;
  static constexpr std::size_t max_remembered_matches = std::size_t{1} << 20; // 4 MiB

  /// The texts' bytes, separators included, that one index holds at most:
  /// the suffix array's offsets are 32 bits (libdivsufsort's). Items past
  /// it are not indexed (a search does not find them), as are items past
  /// 4 billion.
  static constexpr std::size_t max_text_bytes = 0x7fff'ffff;

private:
  /// Positions of the items holding the suffixes sorted_[from, to),
  /// ascending and unique.
  std::vector<position> items_of(std::size_t from, std::size_t to, std::size_t needle_size,
                                 bool may_span_items) const;

  std::vector<entry> entries_;
  // Every item's text followed by a separator byte ('\0'): item p's text
  // is [text_begin_[p], text_begin_[p + 1] - 1). A needle without that
  // byte cannot match across two items; one with it (texts may hold it
  // too) is checked against the item's end.
  std::string texts_;
  std::vector<std::uint32_t> text_begin_{0};
  // The suffix array: offsets into texts_ in the order of the suffixes
  // they start, and beside each, the position of the item it falls in
  // (so that a range's items are read in order, not looked up).
  std::vector<std::int32_t> sorted_;
  std::vector<position> item_of_sorted_;
  std::unordered_map<std::string, std::uint32_t> category_codes_;
  // Searches run on every I/O thread against one shared index.
  mutable std::mutex remembered_mutex_;
  mutable std::unordered_map<std::string, matches> remembered_;
  mutable std::size_t remembered_count_ = 0;
};

} // namespace emporium
