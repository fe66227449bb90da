// Fills a stopped node's data directory with a large catalog and many
// accounts, straight through the persistence layer, for the data-scale
// benchmark (scale_bench.sh): 100,000 products and 1,000,000 sign-ups
// through the API would take days of Argon2. Products are variants of the
// demo catalog's (real names, descriptions, categories, prices) with their
// stock records in the shard files, as the node seeds its demo catalog.
// Every account gets the same password hash, computed once here at the
// node's cost, so a login costs what any login costs. Carts (for the
// recovery benchmark) belong to random 32-hex user ids and hold 3 lines of
// demo products each, as a saved cart's snapshot.
//   bulk_data <data-dir> <products in all> <users to add> <password> [carts=0]
// Users are user<i>@scale.test; prints what it added and how long it took.
#include "actors/accounts/accounts_actor.hpp"
#include "actors/catalog/demo_catalog.hpp"
#include "domain/shard_map.hpp"
#include "domain/cart_rules.hpp"
#include "domain/stock_rules.hpp"
#include "http/auth/credentials.hpp"
#include "persistence/account_store.hpp"
#include "persistence/catalog_store.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/file_lock.hpp"
#include "persistence/snapshot.hpp"
#include "actors/protocol.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>

using namespace emporium;

namespace {

std::string one_hash(const std::string& password) {
  http::password_hasher hasher(1);
  std::promise<std::string> hashed;
  hasher.hash(password, [&](std::string h) { hashed.set_value(std::move(h)); });
  return hashed.get_future().get();
}

void add_products(const std::string& dir, std::uint32_t shards, std::int64_t total) {
  auto level = persistence::durability::normal;
  persistence::catalog_store store(persistence::global_db_path(dir), level);
  auto existing = store.load_products();
  std::int64_t next_id = 0;
  for (const auto& p : existing)
    next_id = std::max(next_id, p.id);
  auto demo = make_demo_catalog();
  auto stock_kind = static_cast<std::uint8_t>(entity_kind::stock);
  std::vector<product_record> records;
  std::vector<std::vector<persistence::entity_write>> stock(shards);
  for (auto n = static_cast<std::int64_t>(existing.size()); n < total; ++n) {
    const auto& model = demo[static_cast<std::size_t>(n) % demo.size()].product;
    auto series = n / static_cast<std::int64_t>(demo.size());
    product_record p{++next_id, fmt::format("{} {}", model.name, series), model.description,
                     model.price + series % 500, model.category};
    stock_state s;
    s.on_hand = 1'000 + (n * 7919) % 9'000;
    auto id = std::to_string(p.id);
    stock[cluster::shard_of_product(id, shards)].push_back(
      {stock_kind, id, persistence::snapshot_of(s), {}, {}, {}});
    records.push_back(std::move(p));
  }
  for (std::uint32_t i = 0; i < shards; ++i)
    persistence::entity_store(persistence::shard_db_path(dir, i), level).commit(stock[i]);
  store.insert_many(records);
  std::cout << "products added: " << records.size() << "\n";
}

void add_users(const std::string& dir, std::uint32_t shards, long count, const std::string& hash) {
  std::vector<std::unique_ptr<persistence::account_store>> stores;
  for (std::uint32_t i = 0; i < shards; ++i)
    stores.push_back(std::make_unique<persistence::account_store>(
      persistence::shard_db_path(dir, i), persistence::durability::normal));
  long added = 0;
  for (long i = 0; i < count; ++i) {
    user_record u;
    u.email = fmt::format("user{}@scale.test", i);
    u.password_hash = hash;
    u.role = "customer";
    u.first_name = "Scale";
    u.last_name = fmt::format("User {}", i);
    u.id = cluster::user_id_for_email(u.email, shards, random_user_id);
    added += stores[cluster::shard_of_email(u.email, shards)]->insert_user(u, 0);
  }
  std::cout << "users added: " << added << "\n";
}

void add_carts(const std::string& dir, std::uint32_t shards, long count) {
  auto demo = make_demo_catalog();
  auto cart_kind = static_cast<std::uint8_t>(entity_kind::cart);
  std::vector<std::vector<persistence::entity_write>> carts(shards);
  auto flush = [&] {
    for (std::uint32_t i = 0; i < shards; ++i) {
      persistence::entity_store(persistence::shard_db_path(dir, i),
                                persistence::durability::normal)
        .commit(carts[i]);
      carts[i].clear();
    }
  };
  for (long n = 0; n < count; ++n) {
    cart_state cart;
    for (std::size_t k = 0; k < 3; ++k) {
      const auto& p = demo[static_cast<std::size_t>(n * 3 + k * 101) % demo.size()].product;
      cart.lines.push_back({p.id, static_cast<std::int32_t>(1 + k), p.price, p.name});
    }
    std::sort(cart.lines.begin(), cart.lines.end(),
              [](const auto& a, const auto& b) { return a.product < b.product; });
    cart.lines.erase(std::unique(cart.lines.begin(), cart.lines.end(),
                                 [](const auto& a, const auto& b) { return a.product == b.product; }),
                     cart.lines.end());
    auto user = random_user_id();
    carts[cluster::shard_of_user(user, shards)].push_back(
      {cart_kind, user, persistence::snapshot_of(cart), {}, {}, {}});
    if ((n + 1) % 100'000 == 0)
      flush();
  }
  flush();
  std::cout << "carts added: " << count << "\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: bulk_data <data-dir> <products in all> <users to add> <password> "
                 "[carts]\n";
    return 2;
  }
  if (sodium_init() < 0)
    return 1;
  std::string dir = argv[1];
  std::uint32_t shards = 0;
  std::ifstream(dir + "/shards") >> shards;
  if (shards == 0) {
    std::cerr << "no shards file in " << dir << ": start a node on it once first\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  add_products(dir, shards, std::stoll(argv[2]));
  add_users(dir, shards, std::stol(argv[3]), one_hash(argv[4]));
  if (argc == 6)
    add_carts(dir, shards, std::stol(argv[5]));
  std::cout << fmt::format("took {:.1f} s\n", std::chrono::duration<double>(
                                                std::chrono::steady_clock::now() - start).count());
  return 0;
}
