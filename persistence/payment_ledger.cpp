// The test-mode provider's ledger (see payment_ledger.hpp).
#include "persistence/payment_ledger.hpp"

#include "persistence/retention.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <limits>

namespace emporium::persistence {

payment_ledger::payment_ledger(const std::string& path, durability level)
  : db_(path, level) {
}

payment_ledger::~payment_ledger() = default;

std::optional<ledger_entry> payment_ledger::find(const std::string& key) {
  auto q = db_.statement("SELECT idempotency_key, order_id, amount, payment_method, status, "
                         "reason, payment_id, refunded, created_at FROM payments "
                         "WHERE idempotency_key = ?");
  q->bind(1, key);
  if (!q->executeStep())
    return std::nullopt;
  return ledger_entry{q->getColumn(0).getString(), q->getColumn(1).getInt64(),
                      q->getColumn(2).getInt64(),  q->getColumn(3).getString(),
                      q->getColumn(4).getString(), q->getColumn(5).getString(),
                      q->getColumn(6).getString(), q->getColumn(7).getInt() != 0,
                      q->getColumn(8).getInt64()};
}

void payment_ledger::insert(const ledger_entry& e) {
  auto q = db_.statement("INSERT INTO payments(idempotency_key, order_id, amount, "
                         "payment_method, status, reason, payment_id, refunded, created_at) "
                         "VALUES(?,?,?,?,?,?,?,?,?)");
  q->bind(1, e.idempotency_key);
  q->bind(2, e.order);
  q->bind(3, e.amount);
  q->bind(4, e.payment_method);
  q->bind(5, e.status);
  q->bind(6, e.reason);
  q->bind(7, e.payment_id);
  q->bind(8, e.refunded ? 1 : 0);
  q->bind(9, e.created_ms);
  q->exec();
}

void payment_ledger::mark_refunded(const std::string& key) {
  auto q = db_.statement("UPDATE payments SET refunded = 1 WHERE idempotency_key = ?");
  q->bind(1, key);
  q->exec();
}

ledger_swept payment_ledger::sweep(std::int64_t cutoff_ms, std::int64_t limit,
                                   std::int64_t pages) {
  ledger_swept out;
  {
    write_transaction tx(db_);
    // Without a record of when dating began (a file edited by hand), an
    // undated row is never due.
    auto undated_at = retention_value(db_, "payments_dated_from")
                        .value_or(std::numeric_limits<std::int64_t>::max());
    std::int64_t last_due = 0;
    {
      auto q = db_.statement("SELECT rowid, created_at FROM payments ORDER BY rowid LIMIT ?");
      q->bind(1, limit);
      while (q->executeStep()) {
        auto made = q->getColumn(1).getInt64();
        if ((made > 0 ? made : undated_at) >= cutoff_ms)
          break;
        last_due = q->getColumn(0).getInt64();
        ++out.rows;
      }
    }
    if (out.rows > 0) {
      auto remove = db_.statement("DELETE FROM payments WHERE rowid <= ?");
      remove->bind(1, last_due);
      remove->exec();
    }
    tx.commit();
  }
  out.more = out.rows >= limit;
  out.pages = reclaim(db_, pages);
  return out;
}

} // namespace emporium::persistence
