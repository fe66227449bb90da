// The catalog's read side: an in-memory model on every node, fed by the
// write side's events (product upserts/deletes, stock changes). Readers take
// an immutable snapshot without locking; writers build the next snapshot
// from the current one, sharing every chunk of items they do not change.
#pragma once

#include "actors/catalog/text_index.hpp"
#include "domain/records.hpp"

#include <atomic>
#include <condition_variable>
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace emporium {

struct catalog_item {
  product_record product;
  std::int64_t stock = 0;  // available units
  std::string search_text; // lower-cased name + description
  std::string category_key; // lower-cased category
  /// The product as the API shows it (the seed's JSON shape), rendered once
  /// per change instead of once per query.
  std::string json;
};

/// The product as the API shows it: the seed's JSON shape
/// {id, name, description, price, category, stockQuantity}.
std::string render_product_json(const product_record& p, std::int64_t stock);

/// Up to `catalog_chunk_max` items with adjacent ids, sorted by id. Chunks
/// are immutable and shared between snapshots: a change copies the one
/// chunk it touches and the list of chunk pointers, so a stock change or a
/// product edit costs O(catalog / chunk size + chunk size), not O(catalog).
struct catalog_chunk {
  std::vector<std::shared_ptr<const catalog_item>> items;
  /// items[i]'s id, side by side: a search finds the items of its page
  /// and the ones edited since the index's build by binary search here,
  /// in 4 KiB, instead of through a pointer to each item.
  std::vector<std::int64_t> ids;
  /// Call after changing `items`.
  void sync_ids() {
    ids.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      ids[i] = items[i]->product.id;
  }
};
constexpr std::size_t catalog_chunk_max = 512;

struct catalog_snapshot {
  /// Names this snapshot's contents: set when it is published, unique in
  /// the process (across every catalog_view), never reused. Two answers
  /// read at the same version are the same answer (http's response cache).
  std::uint64_t version = 0;
  std::vector<std::shared_ptr<const catalog_chunk>> chunks; // by id, none empty
  std::size_t size = 0;                                     // items in all chunks
  std::map<std::string, std::size_t> category_counts;      // products per category
  std::vector<std::string> categories; // sorted, unique (the keys above)
  /// The search index as of its last build, shared between snapshots, and
  /// the ids added, edited or erased since (sorted, unique): a search
  /// leaves those out of the index's answers and checks them on their
  /// items (an erased one is simply not found).
  std::shared_ptr<const text_index> index = std::make_shared<const text_index>();
  std::vector<std::int64_t> unindexed;
  const catalog_item* find(std::int64_t id) const;
  template <class F>
  void for_each(F&& f) const {
    for (const auto& chunk : chunks)
      for (const auto& item : chunk->items)
        f(*item);
  }
  /// Calls `f` for each item whose id is in `ids` (ascending), in one walk
  /// over the chunks: a search reads the items edited since the index's
  /// build this way, and a find() per id (two binary searches through
  /// pointers) was a quarter of a search's time at 100,000 products when
  /// every match was read.
  template <class F>
  void for_each_of(const std::vector<std::int64_t>& ids, F&& f) const {
    std::size_t c = 0, at = 0;
    for (auto id : ids) {
      while (c < chunks.size() && chunks[c]->ids.back() < id) {
        ++c;
        at = 0;
      }
      if (c == chunks.size())
        return;
      // The chunk's last id is >= id, so this stops inside the chunk.
      const auto& in = chunks[c]->ids;
      at = static_cast<std::size_t>(
        std::lower_bound(in.begin() + static_cast<std::ptrdiff_t>(at), in.end(), id) - in.begin());
      if (in[at] == id)
        f(*chunks[c]->items[at]);
    }
  }
};

struct catalog_query {
  std::string search;   // case-insensitive, over name and description
  std::string category; // case-insensitive exact match
  std::optional<cents> min_price;
  std::optional<cents> max_price;
  std::string sort_by = "id"; // id | name | price | stock
  bool descending = false;
  std::size_t page = 1;      // 1-based
  std::size_t page_size = 0; // 0 = everything (the seed's v1 call)
};

struct catalog_page {
  std::vector<const catalog_item*> items; // valid while `snapshot` lives
  std::size_t total = 0;                  // matches before paging
  std::shared_ptr<const catalog_snapshot> snapshot;
};

class catalog_view {
public:
  catalog_view();
  /// Waits for an index build in flight.
  ~catalog_view();
  catalog_view(const catalog_view&) = delete;
  catalog_view& operator=(const catalog_view&) = delete;

  std::shared_ptr<const catalog_snapshot> snapshot() const;
  /// The version of the snapshot published last, without taking it (an
  /// atomic load, where snapshot() takes a lock of the library's). Raised
  /// just after the snapshot is published: a reader that sees version v
  /// may already be offered a newer snapshot, never an older one.
  std::uint64_t version() const { return published_version_.load(std::memory_order_acquire); }

  void upsert(const product_record& product);
  void erase(std::int64_t id);
  /// (product id, available units) pairs.
  using stock_levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

  /// Applies many stock changes with one new snapshot (the catalog actor
  /// batches them): each changed chunk is copied once.
  void set_stock(const stock_levels& changes);

  /// Replaces everything (start-up load).
  void reset(const std::vector<product_record>& products, const stock_levels& stock);

  catalog_page query(const catalog_query& q) const;

  /// Returns once no index build is running. Edits past the threshold
  /// (catalog_view.cpp) start one on a thread of its own; queries are
  /// answered meanwhile, the edited items checked directly.
  void wait_for_index();

private:
  void publish(std::shared_ptr<catalog_snapshot> next);
  void index_in_background_if_due(); // under write_mutex_
  void index_until_current();        // the build thread's body
  mutable std::mutex write_mutex_;
  std::condition_variable index_built_;
  bool indexing_ = false; // under write_mutex_
  std::thread indexer_;
  std::shared_ptr<const catalog_snapshot> current_; // atomic_load/atomic_store
  std::atomic<std::uint64_t> published_version_{0};
};

} // namespace emporium
