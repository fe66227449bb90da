// The test-mode provider's ledger (see payment_ledger.hpp).
#include "persistence/payment_ledger.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

payment_ledger::payment_ledger(const std::string& path, durability level)
  : db_(path, level) {
}

payment_ledger::~payment_ledger() = default;

std::optional<ledger_entry> payment_ledger::find(const std::string& key) {
  auto q = db_.statement("SELECT idempotency_key, order_id, amount, payment_method, status, "
                            "reason, payment_id, refunded FROM payments WHERE idempotency_key = ?");
  q->bind(1, key);
  if (!q->executeStep())
    return std::nullopt;
  return ledger_entry{q->getColumn(0).getString(), q->getColumn(1).getInt64(),
                      q->getColumn(2).getInt64(),  q->getColumn(3).getString(),
                      q->getColumn(4).getString(), q->getColumn(5).getString(),
                      q->getColumn(6).getString(), q->getColumn(7).getInt() != 0};
}

void payment_ledger::insert(const ledger_entry& e) {
  auto q = db_.statement("INSERT INTO payments(idempotency_key, order_id, amount, "
                            "payment_method, status, reason, payment_id, refunded) "
                            "VALUES(?,?,?,?,?,?,?,?)");
  q->bind(1, e.idempotency_key);
  q->bind(2, e.order);
  q->bind(3, e.amount);
  q->bind(4, e.payment_method);
  q->bind(5, e.status);
  q->bind(6, e.reason);
  q->bind(7, e.payment_id);
  q->bind(8, e.refunded ? 1 : 0);
  q->exec();
}

void payment_ledger::mark_refunded(const std::string& key) {
  auto q = db_.statement("UPDATE payments SET refunded = 1 WHERE idempotency_key = ?");
  q->bind(1, key);
  q->exec();
}

} // namespace emporium::persistence
