// The built-in test-mode payment provider's memory: one row per idempotency
// key (the charge and whether it was refunded), and its retention.
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
  std::int64_t created_ms = 0; ///< when the row was made (ms since the epoch)
};

/// What one retention step of the ledger did; `more` when its limit was
/// reached (step again soon).
struct ledger_swept {
  std::int64_t rows = 0;
  std::int64_t pages = 0; ///< free pages given back to the file system
  bool more = false;
};

class payment_ledger {
public:
  payment_ledger(const std::string& path, durability level);
  ~payment_ledger();
  std::optional<ledger_entry> find(const std::string& key);
  void insert(const ledger_entry& e);
  void mark_refunded(const std::string& key);

  /// Deletes up to `limit` of the oldest rows made before `cutoff_ms`, then
  /// gives up to `pages` free pages back. Rows are walked in rowid order,
  /// the order they were written in, and the walk stops at the first row
  /// not due: a step with nothing due reads one row, and the table needs
  /// no index by time (which every charge would pay for). Nodes' clocks
  /// may disagree a little: a row a little older behind a newer one waits
  /// for the next step after that one. Undated rows (from before schema
  /// 14, or an older build's) count as made when dating began
  /// (`payments_dated_from` in `retention`), and are kept without it.
  ledger_swept sweep(std::int64_t cutoff_ms, std::int64_t limit, std::int64_t pages);

private:
  connection db_;
};

} // namespace emporium::persistence
