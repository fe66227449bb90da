// The catalog's read side: an in-memory model on every node, fed by the
// write side's events (product upserts/deletes, stock changes). Readers take
// an immutable snapshot without locking; writers copy and swap (products
// change rarely; a stock change swaps one product's entry).
#pragma once

#include "domain/records.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace emporium {

struct catalog_item {
  product_record product;
  std::int64_t stock = 0;  // available units
  std::string search_text; // lower-cased name + description
  std::string category_key; // lower-cased category
  /// The product as the API shows it (the seed's JSON shape), rendered once
  /// per change instead of once per query.
  std::string json;
};

/// The product as the API shows it: the seed's JSON shape
/// {id, name, description, price, category, stockQuantity}.
std::string render_product_json(const product_record& p, std::int64_t stock);

struct catalog_snapshot {
  // Items are immutable and shared between snapshots: a new snapshot copies
  // pointers, and only a changed item is built anew.
  std::vector<std::shared_ptr<const catalog_item>> items; // sorted by id
  std::vector<std::string> categories; // sorted, unique
  const catalog_item* find(std::int64_t id) const;
};

struct catalog_query {
  std::string search;   // case-insensitive, over name and description
  std::string category; // case-insensitive exact match
  std::optional<cents> min_price;
  std::optional<cents> max_price;
  std::string sort_by = "id"; // id | name | price | stock
  bool descending = false;
  std::size_t page = 1;      // 1-based
  std::size_t page_size = 0; // 0 = everything (the seed's v1 call)
};

struct catalog_page {
  std::vector<const catalog_item*> items; // valid while `snapshot` lives
  std::size_t total = 0;                  // matches before paging
  std::shared_ptr<const catalog_snapshot> snapshot;
};

class catalog_view {
public:
  catalog_view();

  std::shared_ptr<const catalog_snapshot> snapshot() const;

  void upsert(const product_record& product);
  void erase(std::int64_t id);
  /// (product id, available units) pairs.
  using stock_levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

  /// Applies many stock changes with ONE copy of the snapshot: a copy costs
  /// every item's strings, so changes are batched by the catalog actor.
  void set_stock(const stock_levels& changes);

  /// Replaces everything (start-up load).
  void reset(const std::vector<product_record>& products, const stock_levels& stock);

  catalog_page query(const catalog_query& q) const;

private:
  void publish(std::shared_ptr<catalog_snapshot> next);
  mutable std::mutex write_mutex_;
  std::shared_ptr<const catalog_snapshot> current_; // atomic_load/atomic_store
};

} // namespace emporium
