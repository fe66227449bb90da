// Retention of a shard file (issue 16): what is deleted and when. Outbox
// events are deleted after the event retention; the Idempotency-Keys of
// orders (key, request hash, stored answer) are forgotten after the key
// retention, while the orders themselves stay; stock sales (what makes a
// repeated stock commit a no-op) after the sale retention; the freed pages
// go back to the file system. Run by the shard's store actor, the file's
// only writer.
#pragma once

#include <cstdint>
#include <optional>

namespace emporium::persistence {

class connection;

/// A named value of the file's `retention` table (watermarks, the sales
/// pass's cursor, when dating began); none when it was never written.
std::optional<std::int64_t> retention_value(connection& db, const char* name);

/// How long things are kept, as configured (0 = keep forever).
struct retention_policy {
  std::int64_t events_ms = 30LL * 24 * 3600 * 1000; ///< --event-retention-days
  std::int64_t keys_ms = 24LL * 3600 * 1000;        ///< --idempotency-retention-hours
  std::int64_t sales_ms = 30LL * 24 * 3600 * 1000;  ///< --sale-retention-days
  std::int64_t interval_ms = 600'000;               ///< --retention-sweep-seconds
  bool enabled() const { return events_ms > 0 || keys_ms > 0 || sales_ms > 0; }
};

/// One sweep's bounds: rows older than the cutoffs (milliseconds since the
/// epoch; 0 = keep), at most `limit` of each kind, then up to
/// `reclaim_pages` free pages returned.
struct retention_cutoffs {
  std::int64_t events_before_ms = 0;
  std::int64_t keys_before_ms = 0;
  std::int64_t sales_before_ms = 0;
  std::int64_t limit = 5'000;
  std::int64_t sales_scan = 20'000; ///< stock sales looked at per step of a pass
  std::int64_t reclaim_pages = 2'000;
};

/// What a sweep did; `more` when a limit was reached (sweep again soon).
struct retention_swept {
  std::int64_t events = 0;
  std::int64_t keys = 0;
  std::int64_t sales = 0;
  std::int64_t pages = 0; ///< pages handed back to the file system
  bool more = false;
};

/// The cutoffs of a sweep at `now_ms` under `policy`.
inline retention_cutoffs cutoffs_at(const retention_policy& policy, std::int64_t now_ms) {
  retention_cutoffs cut;
  cut.events_before_ms = policy.events_ms > 0 ? now_ms - policy.events_ms : 0;
  cut.keys_before_ms = policy.keys_ms > 0 ? now_ms - policy.keys_ms : 0;
  cut.sales_before_ms = policy.sales_ms > 0 ? now_ms - policy.sales_ms : 0;
  return cut;
}

/// Deletes up to `limit` outbox rows written before `cutoff_ms`, never the
/// newest row (seq is max(seq) + 1: deleting the newest would hand its seq
/// out again), and raises the watermark `outbox_pruned_through` to the
/// highest seq deleted, in one transaction. Returns the number deleted.
std::int64_t prune_events(connection& db, std::int64_t cutoff_ms, std::int64_t limit);

/// The highest seq pruned so far (0: none). A client resuming from a seq
/// below it may have missed events it can no longer get.
std::int64_t events_pruned_through(connection& db);

/// Forgets the Idempotency-Key, request hash and stored answer of up to
/// `limit` orders placed before `cutoff_ms`; a retry with such a key is a
/// new request, as with Stripe after 24 hours.
std::int64_t forget_idempotency(connection& db, std::int64_t cutoff_ms, std::int64_t limit);

/// One step of a pass over the stock sales in key order, which deletes
/// those made before `cutoff_ms`. A sale is asked about only by its order's
/// saga (a commit repeated after a crash, or a cancel's release), which
/// ends within the reservations' life (600 s by default), so a sale kept
/// for weeks is kept long past its last use. Undated rows (from before
/// schema 13, or written by such a build) count as made when the file's
/// dating began (`stock_sales_dated_from`).
///
/// There is no index by time: it would cost every stock commit a page
/// written (+4.5 KB per order, docs/benchmarks.md). Instead a step looks at
/// the next `scan` rows after the file's cursor (kept in `retention`), and
/// a pass that reaches the end of the table starts again only once the
/// cutoff has moved `pass_every_ms` on: a daily pass over the table, in
/// steps the sweep repeats every second while `more`.
struct sales_step {
  std::int64_t deleted = 0;
  bool more = false; ///< the pass goes on: step again soon
};
constexpr std::int64_t sales_pass_every_ms = 24LL * 3600 * 1000;
sales_step prune_sales(connection& db, std::int64_t cutoff_ms, std::int64_t scan,
                       std::int64_t pass_every_ms = sales_pass_every_ms);

/// Returns up to `pages` free pages to the file system (files use
/// auto_vacuum=INCREMENTAL; one that could not be converted only reuses
/// them, and this returns 0). Returns the number of pages freed.
std::int64_t reclaim(connection& db, std::int64_t pages);

/// All of the above, in that order.
retention_swept sweep(connection& db, const retention_cutoffs& cut);

} // namespace emporium::persistence
