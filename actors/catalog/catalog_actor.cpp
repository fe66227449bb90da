// The catalog write side (see catalog_actor.hpp).
#include "actors/catalog/catalog_actor.hpp"

#include "actors/catalog/demo_catalog.hpp"
#include "actors/guarded.hpp"
#include "actors/protocol.hpp"
#include "actors/state_codec.hpp"
#include "persistence/catalog_store.hpp"
#include "persistence/entity_store.hpp"

#include <caf/all.hpp>

namespace emporium {

namespace {

struct catalog_state {
  std::unique_ptr<persistence::catalog_store> store;
  std::shared_ptr<catalog_view> view;
  static inline const char* name = "catalog";
};

using catalog_self = caf::stateful_actor<catalog_state>;


caf::behavior catalog_actor(catalog_self* self, std::string path,
                            persistence::durability level, std::shared_ptr<catalog_view> view) {
  self->state.store = std::make_unique<persistence::catalog_store>(path, level);
  self->state.view = std::move(view);
  return {
    [self](atoms::create, product_record& p) {
      return guarded([&]() -> caf::result<product_record> {
        p.id = 0;
        auto stored = self->state.store->insert(p);
        self->state.view->upsert(stored);
        return stored;
      });
    },
    [self](atoms::update, product_record& p) {
      return guarded([&]() -> caf::result<product_record> {
        if (!self->state.store->update(p))
          return make_error(errc::not_found);
        self->state.view->upsert(p);
        return p;
      });
    },
    [self](atoms::erase, std::int64_t id) {
      return guarded([&]() -> caf::result<bool> {
        if (!self->state.store->remove(id))
          return false;
        self->state.view->erase(id);
        return true;
      });
    },
    [self](atoms::stock_changed, std::int64_t id, std::int64_t available) {
      self->state.view->set_stock(id, available);
    },
  };
}

} // namespace

caf::actor spawn_catalog(caf::actor_system& sys, const std::string& db_path,
                         persistence::durability level, std::shared_ptr<catalog_view> view) {
  return sys.spawn<caf::detached>(catalog_actor, db_path, level, std::move(view));
}

std::size_t load_catalog(const std::string& db_path, persistence::durability level,
                         catalog_view& view, bool seed_demo) {
  persistence::catalog_store products(db_path, level);
  persistence::entity_store entities(db_path, level);
  auto stock_kind = static_cast<std::uint8_t>(entity_kind::stock);
  auto loaded = products.load_products();
  if (loaded.empty() && seed_demo) {
    auto demo = make_demo_catalog();
    std::vector<product_record> records;
    std::vector<persistence::entity_write> stock;
    for (const auto& d : demo) {
      records.push_back(d.product);
      stock_state s;
      s.on_hand = d.stock;
      stock.push_back({stock_kind, std::to_string(d.product.id), encode(s), {}});
    }
    products.insert_many(records);
    entities.commit(stock);
    loaded = products.load_products();
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> available;
  for (const auto& [id, text] : entities.load_all(stock_kind))
    if (auto s = decode_stock(text))
      available.emplace_back(std::stoll(id), stock_available(*s));
  view.reset(loaded, available);
  return loaded.size();
}

} // namespace emporium
