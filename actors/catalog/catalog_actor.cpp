// The catalog write side (see catalog_actor.hpp).
#include "actors/catalog/catalog_actor.hpp"

#include "actors/catalog/demo_catalog.hpp"
#include "actors/cluster/router.hpp"
#include "actors/guarded.hpp"
#include "actors/protocol.hpp"
#include "persistence/catalog_store.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/shard_files.hpp"
#include "persistence/snapshot.hpp"

#include <caf/all.hpp>

#include <map>

namespace emporium {

namespace {

struct catalog_state {
  catalog_files files;
  std::unique_ptr<persistence::catalog_store> store;
  std::shared_ptr<catalog_view> view;
  caf::actor fanout; // the cluster router; invalid on a node without one
  // Stock changes not yet in the view: the latest level per product. Every
  // order changes stock twice, and copying the view per change was ~5% of
  // the node's CPU; all changes waiting in the mailbox share one copy.
  std::map<std::int64_t, std::int64_t> pending_stock;
  static inline const char* name = "catalog";
};

// The public interface plus the flush queued behind a batch of stock levels.
using catalog_impl = catalog_actor::extend<caf::reacts_to<atoms::flush>>;
using catalog_self = catalog_impl::stateful_pointer<catalog_state>;

/// Tells the other nodes about a change this node made.
void announce(catalog_self self, caf::message change) {
  if (self->state.fanout)
    // anon: a typed actor may only send() to typed ones; the router is not
    // (yet), and it answers nothing here.
    caf::anon_send(self->state.fanout, atoms::broadcast::value, std::move(change));
}

/// Queues a stock level for the view; the first one queues the flush behind
/// the messages already waiting, so they all land in the same copy.
void note_stock(catalog_self self, std::int64_t id, std::int64_t available) {
  auto& pending = self->state.pending_stock;
  if (pending.empty())
    self->send(self, atoms::flush::value);
  pending[id] = available;
}

/// Applies a change another node announced (read model only: the database
/// was written by that node).
void apply_remote(catalog_self self, const caf::message& change) {
  auto& view = *self->state.view;
  if (change.match_elements<update_product>())
    view.upsert(change.get_as<update_product>(0).product);
  else if (change.match_elements<delete_product>())
    view.erase(change.get_as<delete_product>(0).id);
  else if (change.match_elements<stock_level>())
    note_stock(self, change.get_as<stock_level>(0).product,
               change.get_as<stock_level>(0).available);
}

catalog_impl::behavior_type catalog_behavior(catalog_self self, catalog_files files,
                                             std::shared_ptr<catalog_view> view) {
  self->state.store = std::make_unique<persistence::catalog_store>(files.global_db, files.level);
  self->state.files = std::move(files);
  self->state.view = std::move(view);
  return {
    [self](create_product& req) {
      return guarded([&]() -> caf::result<product_record> {
        auto& p = req.product;
        p.id = 0;
        auto stored = self->state.store->insert(p);
        self->state.view->upsert(stored);
        announce(self, caf::make_message(update_product{stored}));
        return stored;
      });
    },
    [self](update_product& req) {
      return guarded([&]() -> caf::result<product_record> {
        auto& p = req.product;
        if (!self->state.store->update(p))
          return make_error(errc::not_found);
        self->state.view->upsert(p);
        announce(self, caf::make_message(update_product{p}));
        return p;
      });
    },
    [self](const delete_product& req) {
      auto id = req.id;
      return guarded([&]() -> caf::result<bool> {
        if (!self->state.store->remove(id))
          return false;
        self->state.view->erase(id);
        announce(self, caf::make_message(delete_product{id}));
        return true;
      });
    },
    [self](const stock_level& level) {
      note_stock(self, level.product, level.available);
      announce(self, caf::make_message(level));
    },
    [self](atoms::flush) {
      auto& pending = self->state.pending_stock;
      self->state.view->set_stock({pending.begin(), pending.end()});
      pending.clear();
    },
    [self](const apply_remote_change& remote) { apply_remote(self, remote.change); },
    [self](const announce_to& to) { self->state.fanout = to.router; },
    [self](const reload_catalog&) {
      try {
        load_catalog(self->state.files, *self->state.view, false);
      } catch (const std::exception&) {
        // Keep the current view; the next announcement or reload fixes it.
      }
    },
  };
}

} // namespace

catalog_actor spawn_catalog(caf::actor_system& sys, catalog_files files,
                         std::shared_ptr<catalog_view> view) {
  // On CAF's workers, not a thread of its own: it hears of every stock
  // change (two per order), and waking a dedicated thread for each cost
  // more than the rare product write it blocks a worker for (measured:
  // with the order index also on workers, ~8% more orders/s and a lower
  // p99 at 2,000 orders/s).
  return sys.spawn(catalog_behavior, std::move(files), std::move(view));
}

std::size_t load_catalog(const catalog_files& files, catalog_view& view, bool seed_demo) {
  persistence::catalog_store products(files.global_db, files.level);
  auto stock_kind = static_cast<std::uint8_t>(entity_kind::stock);
  auto shards = static_cast<std::uint32_t>(files.shard_dbs.size());
  auto loaded = products.load_products();
  if (loaded.empty() && seed_demo) {
    auto demo = make_demo_catalog();
    std::vector<product_record> records;
    std::vector<std::vector<persistence::entity_write>> stock(shards);
    for (const auto& d : demo) {
      records.push_back(d.product);
      stock_state s;
      s.on_hand = d.stock;
      auto id = std::to_string(d.product.id);
      stock[shard_of(entity_key{entity_kind::stock, id}, shards)].push_back(
        {stock_kind, id, persistence::snapshot_of(s), {}});
    }
    // Stock first: a crash in between leaves no product without its stock
    // (a second start finds no products and seeds again, overwriting it).
    for (std::uint32_t i = 0; i < shards; ++i)
      persistence::entity_store(persistence::current_file_of(files.shard_dbs[i]), files.level)
        .commit(stock[i]);
    products.insert_many(records);
    loaded = products.load_products();
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> available;
  for (const auto& path : files.shard_dbs)
    for (const auto& [id, found] :
         persistence::entity_store(persistence::current_file_of(path), files.level)
           .load_all(stock_kind))
      if (auto s = persistence::read_stock(found))
        available.emplace_back(std::stoll(id), stock_available(*s));
  view.reset(loaded, available);
  return loaded.size();
}

} // namespace emporium
