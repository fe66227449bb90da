// The built-in test-mode payment provider's memory: one row per idempotency
// key (the charge and whether it was refunded).
#pragma once

#include "persistence/connection.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace emporium::persistence {

struct ledger_entry {
  std::string idempotency_key;
  std::int64_t order = 0;
  std::int64_t amount = 0;
  std::string payment_method;
  std::string status; // succeeded | declined
  std::string reason;
  std::string payment_id;
  bool refunded = false;
};

class payment_ledger {
public:
  payment_ledger(const std::string& path, durability level);
  ~payment_ledger();
  std::optional<ledger_entry> find(const std::string& key);
  void insert(const ledger_entry& e);
  void mark_refunded(const std::string& key);

private:
  connection db_;
};

} // namespace emporium::persistence
