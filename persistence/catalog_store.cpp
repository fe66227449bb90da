// Products (see catalog_store.hpp).
#include "persistence/catalog_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

catalog_store::catalog_store(const std::string& path, durability level)
  : db_(path, level) {
}

catalog_store::~catalog_store() = default;

std::vector<product_record> catalog_store::load_products() {
  std::vector<product_record> out;
  auto q = db_.statement("SELECT id, name, description, price_cents, category FROM "
                            "products WHERE deleted = 0 ORDER BY id");
  while (q->executeStep())
    out.push_back(product_record{q->getColumn(0).getInt64(), q->getColumn(1).getString(),
                                 q->getColumn(2).getString(), q->getColumn(3).getInt64(),
                                 q->getColumn(4).getString()});
  return out;
}

product_record catalog_store::insert(product_record p) {
  auto q = db_.statement("INSERT INTO products(id, name, description, price_cents, "
                            "category) VALUES(?,?,?,?,?)");
  if (p.id > 0)
    q->bind(1, p.id);
  else
    q->bind(1); // NULL: SQLite assigns the next id
  q->bind(2, p.name);
  q->bind(3, p.description);
  q->bind(4, p.price);
  q->bind(5, p.category);
  q->exec();
  p.id = db_.last_insert_rowid();
  return p;
}

bool catalog_store::update(const product_record& p) {
  auto q = db_.statement("UPDATE products SET name = ?, description = ?, price_cents = ?, "
                            "category = ? WHERE id = ? AND deleted = 0");
  q->bind(1, p.name);
  q->bind(2, p.description);
  q->bind(3, p.price);
  q->bind(4, p.category);
  q->bind(5, p.id);
  return q->exec() == 1;
}

bool catalog_store::remove(std::int64_t id) {
  auto q = db_.statement("UPDATE products SET deleted = 1 WHERE id = ? AND deleted = 0");
  q->bind(1, id);
  return q->exec() == 1;
}

void catalog_store::insert_many(const std::vector<product_record>& products) {
  write_transaction tx(db_);
  for (const auto& p : products)
    insert(p);
  tx.commit();
}

} // namespace emporium::persistence
