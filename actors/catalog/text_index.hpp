// A trigram index over the catalog's search texts, so that a substring
// search looks at the few items that contain every three-byte piece of the
// query instead of scanning every item (at 100,000 products a scan was
// 174 queries/s with a 437 ms p99; see docs/benchmarks.md).
//
// Built from a whole catalog; product text changes rarely (stock changes do
// not touch it), so a snapshot keeps the index it was built with plus the
// ids changed since, which a search checks directly, and the catalog
// rebuilds the index once that list grows (catalog_view.cpp). The matches
// of recent needles are remembered with the index, so a repeated search
// (the storefront's popular terms) skips the trigram lists and the text
// checks: at 100,000 products those were two thirds of a search's time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace emporium {

class text_index {
public:
  /// Adds an item; ids must come in ascending order (the catalog's order).
  void add(std::int64_t id, std::string_view text);

  /// Gives back what the lists grew beyond their size (once, after adding).
  void shrink();

  /// Ids whose text may contain `needle` (every trigram of it), ascending:
  /// a superset of the matches among the added items. `needle` must be at
  /// least 3 bytes (shorter ones have no trigram: scan instead).
  std::vector<std::int64_t> candidates(std::string_view needle) const;

  static constexpr std::size_t min_needle = 3;

  /// The ids a search for `needle` matched among this index's items, as
  /// the caller verified them against their indexed text, remembered for
  /// the index's lifetime: texts only change through an edit, which the
  /// snapshot lists as unindexed (checked on every search) until the next
  /// build makes a new index. Null when not remembered.
  using matches = std::shared_ptr<const std::vector<std::int64_t>>;
  matches remembered(const std::string& needle) const;
  /// Remembers `ids` (ascending) for `needle` and gives them back. Bounded:
  /// past max_remembered_needles needles or max_remembered_ids ids in all,
  /// everything is forgotten first (any client may search for anything).
  matches remember(const std::string& needle, std::vector<std::int64_t> ids) const;

  static constexpr std::size_t max_remembered_needles = 256;
  static constexpr std::size_t max_remembered_ids = std::size_t{1} << 20; // 8 MiB

private:
  // Ids are kept as 32 bits (half the memory); an id beyond that range is
  // listed in `wide_` and always a candidate.
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> postings_;
  std::vector<std::int64_t> wide_;
  std::vector<std::uint32_t> scratch_; // one item's trigrams, while adding
  // Searches run on every I/O thread against one shared index.
  mutable std::mutex remembered_mutex_;
  mutable std::unordered_map<std::string, matches> remembered_;
  mutable std::size_t remembered_ids_ = 0;
};

} // namespace emporium
