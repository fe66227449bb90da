// The catalog's write side in SQLite: products (soft-deleted, so order
// history keeps its names).
#pragma once

#include "domain/records.hpp"
#include "persistence/connection.hpp"

#include <optional>
#include <vector>

namespace emporium::persistence {

class catalog_store {
public:
  catalog_store(const std::string& path, durability level);
  ~catalog_store();

  std::vector<product_record> load_products();

  /// Inserts (id 0 = assign one) and returns the stored record.
  product_record insert(product_record p);

  /// false when no live product has that id.
  bool update(const product_record& p);
  bool remove(std::int64_t id);

  /// Inserts many products in one transaction (demo catalog).
  void insert_many(const std::vector<product_record>& products);

private:
  connection db_;
};

} // namespace emporium::persistence
