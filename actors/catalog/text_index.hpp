// The catalog's search index as of one build: trigram lists, so that a
// substring search looks at the few items that contain every three-byte
// piece of the query instead of scanning every item (at 100,000 products a
// scan was 174 queries/s with a 437 ms p99; see docs/benchmarks.md), and a
// flat copy, per item, of what a search checks, filters and ranks by (its
// text, price and category). A search's matches are found, filtered and
// ranked in these arrays; only the items of the page it returns are looked
// up. Visiting every match's item (a binary search in its chunk and two
// pointers to follow) was half of a search's time at 100,000 products.
//
// Built from a whole catalog; product text and price change rarely (stock
// changes do not touch them), so a snapshot keeps the index it was built
// with plus the ids changed or erased since, which a search checks
// directly, and the catalog rebuilds the index once that list grows
// (catalog_view.cpp). The matches of recent needles are remembered with
// the index, so a repeated search (the storefront's popular terms) skips
// the trigram lists and the text checks.
#pragma once

#include <array>
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

  /// Gives back what the lists grew beyond their size (once, after adding).
  void shrink();

  std::size_t size() const {
    return entries_.size();
  }
  const entry& at(position p) const {
    return entries_[p];
  }
  /// The code of a lower-cased category, or none when no indexed item is
  /// in it.
  std::optional<std::uint32_t> category_code(std::string_view key) const;

  /// Positions whose text may contain `needle`, ascending: those holding
  /// its rarest trigrams (see the .cpp), a superset of the matches.
  /// `needle` must be at least 3 bytes (shorter ones have no trigram: scan
  /// instead).
  std::vector<position> candidates(std::string_view needle) const;

  static constexpr std::size_t min_needle = 3;

  /// Positions whose indexed text contains `needle`, ascending.
  using matches = std::shared_ptr<const std::vector<position>>;
  /// Remembered, or found now (candidates, each checked) and remembered,
  /// for the index's lifetime: an indexed text only changes through an
  /// edit, which the snapshot lists as unindexed (checked on every search)
  /// until the next build makes a new index.
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

private:
  std::string_view text_at(position p) const {
    return std::string_view{texts_}.substr(text_begin_[p], text_begin_[p + 1] - text_begin_[p]);
  }

  std::unordered_map<std::uint32_t, std::vector<position>> postings_;
  std::vector<entry> entries_;
  // Every item's text, one after another: item p's is
  // [text_begin_[p], text_begin_[p + 1]).
  std::string texts_;
  std::vector<std::size_t> text_begin_{0};
  std::array<std::size_t, 256> byte_counts_{}; // in all texts: a needle's rarest byte
  std::unordered_map<std::string, std::uint32_t> category_codes_;
  std::vector<std::uint32_t> scratch_; // one item's trigrams, while adding
  // Searches run on every I/O thread against one shared index.
  mutable std::mutex remembered_mutex_;
  mutable std::unordered_map<std::string, matches> remembered_;
  mutable std::size_t remembered_count_ = 0;
};

} // namespace emporium
