// Order index and order reads (see order_store.hpp).
#include "persistence/order_store.hpp"
#include "persistence/retention.hpp"

#include "persistence/snapshot_keys.hpp"
#include "persistence/state_codec.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

order_store::order_store(const std::string& path, durability level)
  : db_(path, level) {
}

order_store::~order_store() = default;

std::optional<placed_order> order_store::find_by_key(const std::string& user,
                                                     const std::string& key) {
  auto q = db_.statement("SELECT id, user_id, request_hash, response FROM orders "
                            "WHERE user_id = ? AND idempotency_key = ?");
  q->bind(1, user);
  q->bind(2, key);
  if (!q->executeStep())
    return std::nullopt;
  return placed_order{q->getColumn(0).getInt64(), q->getColumn(1).getString(),
                      q->getColumn(2).getString(), q->getColumn(3).getString()};
}

std::int64_t order_store::max_order_id() {
  auto q = db_.statement("SELECT COALESCE(MAX(id), 0) FROM orders");
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::vector<order_state> order_store::history(const std::string& user, std::size_t limit) {
  auto q = db_.statement("SELECT e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) "
                            "WHERE o.user_id = ? ORDER BY o.id DESC LIMIT ?");
  q->bind(1, user);
  q->bind(2, static_cast<std::int64_t>(limit));
  std::vector<order_state> out;
  while (q->executeStep())
    if (auto order = decode_order(q->getColumn(0).getString()))
      out.push_back(std::move(*order));
  return out;
}

std::optional<order_store::stored_order> order_store::find(std::int64_t id) {
  auto q = db_.statement("SELECT o.user_id, e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) WHERE o.id = ?");
  q->bind(1, id);
  if (!q->executeStep())
    return std::nullopt;
  return stored_order{q->getColumn(0).getString(), decode_order(q->getColumn(1).getString())};
}

namespace {

/// The outbox's index by user is split into blocks of 2^10 seqs (schema
/// 11, database.cpp): (seq >> 10, user_id, seq). New events go to the
/// newest block's few leaves whatever the number of users, and a user's
/// events after a seq are one seek per block from there on. The SQL below
/// spells the same expression, which is how SQLite matches the index.
constexpr int outbox_block_bits = 10;

} // namespace

std::vector<order_event> order_store::events_since(const std::string& user, std::int64_t seq,
                                                   std::size_t limit, std::int64_t* last_read,
                                                   std::int64_t max_blocks) {
  if (last_read)
    *last_read = 0;
  std::vector<order_event> out;
  auto newest_q = db_.statement("SELECT COALESCE(MAX(seq), 0) FROM outbox");
  newest_q->executeStep();
  auto newest = newest_q->getColumn(0).getInt64();
  auto after = std::max<std::int64_t>(seq, 0);
  if (limit == 0 || newest <= after)
    return out;
  // Named, so the plan cannot become a walk of every event after `seq`
  // (rowid order matches ORDER BY seq); within a block, index order is
  // seq order, so no sort.
  // (A mismatch with the index's expression fails here, as "no query
  // solution", in every test that resumes.)
  static const std::string sql = fmt::format(
    "SELECT user_id, order_id, payload, seq FROM outbox INDEXED BY outbox_by_block "
    "WHERE (seq >> {}) = ? AND user_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    outbox_block_bits);
  auto q = db_.statement(sql);
  std::size_t rows = 0;
  std::int64_t looked_at = 0;
  max_blocks = std::max<std::int64_t>(max_blocks, 1); // each page moves on
  for (auto block = (after + 1) >> outbox_block_bits; block <= newest >> outbox_block_bits;
       ++block) {
    if (looked_at++ == max_blocks) {
      // A user with few events far behind: this page has read up to the
      // block before this one; the next page goes on from there.
      if (last_read)
        *last_read = (block << outbox_block_bits) - 1;
      return out;
    }
    q->reset();
    q->bind(1, block);
    q->bind(2, user);
    q->bind(3, after);
    q->bind(4, static_cast<std::int64_t>(limit - rows));
    std::int64_t last = 0;
    while (q->executeStep()) {
      ++rows;
      last = q->getColumn(3).getInt64();
      // A row that does not read back as an event is skipped, not served.
      if (auto e = decode_event(q->getColumn(2).getString(), q->getColumn(0).getString(),
                                q->getColumn(1).getInt64(), last))
        out.push_back(std::move(*e));
    }
    if (rows == limit) {
      if (last_read)
        *last_read = last; // more may follow it
      return out;
    }
  }
  return out; // every row there was
}

std::vector<std::int64_t> order_store::unfinished_orders() {
  // The WHERE of migration 12's partial index, word for word (the index is
  // named, so a mismatch fails to prepare instead of scanning every
  // order): the snapshot's status field holds the status number (4 =
  // Confirmed, 5 = Cancelled); a cancelled order whose compensation is not
  // done (compensated = 0) also counts as unfinished.
  namespace key = snapshot_keys::order;
  static const std::string sql = fmt::format(
    "SELECT CAST(id AS INTEGER) FROM entities INDEXED BY entities_unfinished_orders "
    "WHERE kind = 3 AND json_valid(state) AND "
    "(json_extract(state, '$.{0}') NOT IN (4, 5) OR "
    " (json_extract(state, '$.{0}') = 5 AND json_extract(state, '$.{1}') = 0))",
    key::status, key::compensated);
  auto q = db_.statement(sql);
  std::vector<std::int64_t> out;
  while (q->executeStep())
    out.push_back(q->getColumn(0).getInt64());
  return out;
}

event_page order_store::events_page(const std::string& user, std::int64_t seq,
                                    std::size_t limit) {
  event_page page;
  page.events = events_since(user, seq, limit, &page.more_after);
  // The watermark is read after the events and only ever rises: if the
  // read above missed rows, the prune that deleted them had committed, and
  // this read sees its mark.
  if (seq < events_pruned_through(db_)) {
    page.reset = true;
    page.events.clear();
    page.more_after = 0;
    auto newest = db_.statement("SELECT COALESCE(MAX(seq), 0) FROM outbox");
    newest->executeStep();
    page.resume_from = newest->getColumn(0).getInt64();
  }
  return page;
}

} // namespace emporium::persistence
