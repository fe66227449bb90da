// The catalog read model (see catalog_view.hpp).
#include "actors/catalog/catalog_view.hpp"
#include "domain/ascii_case.hpp"

#include "support/json_field.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <set>

namespace emporium {

std::string render_product_json(const product_record& p, std::int64_t stock) {
  nlohmann::json j{{"id", p.id},
                   {"name", p.name},
                   {"description", p.description},
                   {"price", cents_to_decimal(p.price)},
                   {"category", p.category},
                   {"stockQuantity", stock}};
  return json_read::dump(j);
}

namespace {

std::shared_ptr<const catalog_item> make_item(const product_record& p, std::int64_t stock) {
  return std::make_shared<const catalog_item>(catalog_item{
    p, stock, to_lower(p.name + "\n" + p.description), to_lower(p.category), render_product_json(p, stock)});
}

/// The item with a new stock level (its texts are copied once, here).
std::shared_ptr<const catalog_item> with_stock(const catalog_item& item, std::int64_t stock) {
  auto next = std::make_shared<catalog_item>(item);
  next->stock = stock;
  next->json = render_product_json(item.product, stock);
  return next;
}

void count_category(catalog_snapshot& snap, const std::string& category, int delta) {
  if (category.empty())
    return;
  auto& n = snap.category_counts[category];
  n = static_cast<std::size_t>(static_cast<long long>(n) + delta);
  if (n == 0)
    snap.category_counts.erase(category);
}

void list_categories(catalog_snapshot& snap) {
  snap.categories.clear();
  for (const auto& [name, count] : snap.category_counts)
    snap.categories.push_back(name);
}

using item_ptr = std::shared_ptr<const catalog_item>;

/// The chunk where `id` is or would go: the first whose last id is >= id,
/// else the last one.
std::size_t chunk_for(const catalog_snapshot& snap, std::int64_t id) {
  auto it = std::lower_bound(snap.chunks.begin(), snap.chunks.end(), id,
                             [](const auto& c, std::int64_t v) { return c->ids.back() < v; });
  if (it == snap.chunks.end())
    return snap.chunks.empty() ? 0 : snap.chunks.size() - 1;
  return static_cast<std::size_t>(it - snap.chunks.begin());
}

auto position(std::vector<item_ptr>& items, std::int64_t id) {
  return std::lower_bound(items.begin(), items.end(), id,
                          [](const auto& i, std::int64_t v) { return i->product.id < v; });
}

/// Changes the chunk that holds (or would hold) `id` through `edit`, which
/// gets a private copy of the chunk's items and the snapshot. A chunk that
/// grows past the limit is split in two; an empty one is dropped.
template <class Edit>
void edit_chunk(catalog_snapshot& snap, std::int64_t id, Edit edit) {
  if (snap.chunks.empty()) // the first product
    snap.chunks.push_back(std::make_shared<const catalog_chunk>());
  auto at = snap.chunks.front()->items.empty() ? 0 : chunk_for(snap, id);
  auto copy = std::make_shared<catalog_chunk>(*snap.chunks[at]);
  edit(copy->items);
  if (copy->items.empty()) {
    snap.chunks.erase(snap.chunks.begin() + static_cast<std::ptrdiff_t>(at));
    return;
  }
  if (copy->items.size() <= catalog_chunk_max) {
    copy->sync_ids();
    snap.chunks[at] = std::move(copy);
    return;
  }
  auto half = copy->items.begin() + static_cast<std::ptrdiff_t>(copy->items.size() / 2);
  auto upper = std::make_shared<catalog_chunk>();
  upper->items.assign(half, copy->items.end());
  copy->items.erase(half, copy->items.end());
  copy->sync_ids();
  upper->sync_ids();
  snap.chunks[at] = std::move(copy);
  snap.chunks.insert(snap.chunks.begin() + static_cast<std::ptrdiff_t>(at) + 1, std::move(upper));
}

std::shared_ptr<const text_index> index_of(const catalog_snapshot& snap) {
  auto index = std::make_shared<text_index>();
  snap.for_each([&](const catalog_item& item) {
    index->add(item.product.id, item.search_text, item.product.price, item.category_key);
  });
  index->build();
  return index;
}

/// An edited, new or erased product: left out of the index's answers and
/// checked on its item (an erased one is not found) until an index built
/// after the change replaces this one.
void mark_unindexed(catalog_snapshot& snap, std::int64_t id) {
  auto it = std::lower_bound(snap.unindexed.begin(), snap.unindexed.end(), id);
  if (it == snap.unindexed.end() || *it != id)
    snap.unindexed.insert(it, id);
}

/// The index is rebuilt when the unindexed ids reach 1/32 of the catalog
/// (at least 256), so a bulk import of n products costs O(n) builds' worth
/// of work in all, amortized, and a search checks at most about that many
/// items directly (more while a build runs).
bool wants_new_index(const catalog_snapshot& snap) {
  return snap.unindexed.size() > std::max<std::size_t>(256, snap.size / 32);
}

/// Whether an index built from `built_from` holds `id` as `now` has it
/// (the same text, price and category, or absent from both).
bool indexed_as_now(const catalog_snapshot& built_from, const catalog_snapshot& now,
                    std::int64_t id) {
  const auto* then = built_from.find(id);
  const auto* current = now.find(id);
  if (then == nullptr || current == nullptr)
    return then == current;
  return then->search_text == current->search_text &&
         then->product.price == current->product.price &&
         then->category_key == current->category_key;
}

} // namespace

const catalog_item* catalog_snapshot::find(std::int64_t id) const {
  if (chunks.empty())
    return nullptr;
  const auto& chunk = *chunks[chunk_for(*this, id)];
  auto it = std::lower_bound(chunk.ids.begin(), chunk.ids.end(), id);
  return it != chunk.ids.end() && *it == id
           ? chunk.items[static_cast<std::size_t>(it - chunk.ids.begin())].get()
           : nullptr;
}

catalog_view::catalog_view() {
  std::lock_guard guard{write_mutex_};
  publish(std::make_shared<catalog_snapshot>());
}

catalog_view::~catalog_view() {
  wait_for_index();
}

void catalog_view::wait_for_index() {
  std::unique_lock guard{write_mutex_};
  index_built_.wait(guard, [&] { return !indexing_; });
  if (indexer_.joinable())
    indexer_.join(); // it has left the lock for good
}

void catalog_view::index_in_background_if_due() {
  if (indexing_ || !wants_new_index(*snapshot()))
    return;
  // A build that ended before: it left the lock (held here) for good.
  if (indexer_.joinable())
    indexer_.join();
  indexing_ = true;
  // Sorting 100,000 products' suffixes takes ~0.9 s: done here, the
  // catalog actor would apply no stock change for that long.
  indexer_ = std::thread([this] { index_until_current(); });
}

void catalog_view::index_until_current() {
  auto from = snapshot();
  for (;;) {
    std::shared_ptr<const text_index> index;
    try {
      index = index_of(*from);
    } catch (const std::exception&) {
      index = nullptr; // out of memory: the edited items stay checked directly
    }
    std::lock_guard guard{write_mutex_};
    auto now = snapshot();
    // reset() installs an index of its own (and its own unindexed list).
    if (index && now->index == from->index) {
      auto next = std::make_shared<catalog_snapshot>(*now);
      next->index = std::move(index);
      // Changed since `from` was taken: still to be checked on their items.
      next->unindexed.clear();
      for (auto id : now->unindexed)
        if (!indexed_as_now(*from, *now, id))
          next->unindexed.push_back(id);
      publish(next);
      if (wants_new_index(*next)) {
        from = next;
        continue;
      }
    }
    indexing_ = false;
    index_built_.notify_all();
    return;
  }
}

std::shared_ptr<const catalog_snapshot> catalog_view::snapshot() const {
  return std::atomic_load(&current_);
}

void catalog_view::publish(std::shared_ptr<catalog_snapshot> next) {
  // Under write_mutex_ (every caller holds it), so versions rise in the
  // order snapshots are published. One counter for every view in the
  // process: a cache shared by two views (two nodes in one test process)
  // cannot mistake one's version for the other's.
  static std::atomic<std::uint64_t> versions{0};
  auto version = versions.fetch_add(1, std::memory_order_relaxed) + 1;
  next->version = version;
  std::atomic_store(&current_, std::shared_ptr<const catalog_snapshot>(std::move(next)));
  published_version_.store(version, std::memory_order_release);
}

void catalog_view::upsert(const product_record& product) {
  std::lock_guard guard{write_mutex_};
  auto next = std::make_shared<catalog_snapshot>(*snapshot());
  edit_chunk(*next, product.id, [&](std::vector<item_ptr>& items) {
    auto it = position(items, product.id);
    if (it != items.end() && (*it)->product.id == product.id) {
      count_category(*next, (*it)->product.category, -1);
      *it = make_item(product, (*it)->stock);
    } else {
      items.insert(it, make_item(product, 0));
      ++next->size;
    }
    count_category(*next, product.category, +1);
  });
  list_categories(*next);
  mark_unindexed(*next, product.id);
  publish(std::move(next));
  index_in_background_if_due();
}

void catalog_view::erase(std::int64_t id) {
  std::lock_guard guard{write_mutex_};
  auto current = snapshot();
  if (!current->find(id))
    return;
  auto next = std::make_shared<catalog_snapshot>(*current);
  edit_chunk(*next, id, [&](std::vector<item_ptr>& items) {
    auto it = position(items, id);
    count_category(*next, (*it)->product.category, -1);
    items.erase(it);
    --next->size;
  });
  list_categories(*next);
  mark_unindexed(*next, id);
  publish(std::move(next));
  index_in_background_if_due();
}

void catalog_view::set_stock(const stock_levels& changes) {
  std::lock_guard guard{write_mutex_};
  auto current = snapshot();
  auto differs = [&](const auto& change) {
    auto found = current->find(change.first);
    return found != nullptr && found->stock != change.second;
  };
  if (std::none_of(changes.begin(), changes.end(), differs))
    return;
  auto next = std::make_shared<catalog_snapshot>(*current);
  for (const auto& change : changes) {
    if (!differs(change))
      continue;
    edit_chunk(*next, change.first, [&](std::vector<item_ptr>& items) {
      auto it = position(items, change.first);
      *it = with_stock(**it, change.second);
    });
  }
  publish(std::move(next));
}

void catalog_view::reset(const std::vector<product_record>& products,
                         const stock_levels& stock) {
  std::lock_guard guard{write_mutex_};
  std::vector<item_ptr> all;
  all.reserve(products.size());
  for (const auto& p : products)
    all.push_back(make_item(p, 0));
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a->product.id < b->product.id; });
  for (const auto& [id, available] : stock) {
    auto it = position(all, id);
    if (it != all.end() && (*it)->product.id == id)
      *it = with_stock(**it, available);
  }
  auto next = std::make_shared<catalog_snapshot>();
  next->size = all.size();
  // Half-full chunks: room to grow before the first split.
  for (std::size_t i = 0; i < all.size(); i += catalog_chunk_max / 2) {
    auto chunk = std::make_shared<catalog_chunk>();
    chunk->items.assign(all.begin() + static_cast<std::ptrdiff_t>(i),
                        all.begin() + static_cast<std::ptrdiff_t>(
                                        std::min(all.size(), i + catalog_chunk_max / 2)));
    chunk->sync_ids();
    next->chunks.push_back(std::move(chunk));
  }
  for (const auto& item : all)
    count_category(*next, item->product.category, +1);
  list_categories(*next);
  next->index = index_of(*next);
  publish(std::move(next));
}

namespace {

bool orders_by_id(const catalog_query& q) {
  return q.sort_by != "name" && q.sort_by != "price" && q.sort_by != "stock";
}

/// The page of an unfiltered query in id order, read off the chunks
/// without touching the items before it (the storefront's first call).
void page_in_id_order(const catalog_query& q, catalog_page& page) {
  const auto& snap = *page.snapshot;
  page.total = snap.size;
  auto first = (q.page - 1) * q.page_size;
  if (first >= snap.size)
    return;
  auto count = std::min(q.page_size, snap.size - first);
  // Descending: the page starts `first` items from the end.
  auto from = q.descending ? snap.size - first - count : first;
  std::size_t seen = 0;
  for (const auto& chunk : snap.chunks) {
    auto n = chunk->items.size();
    if (seen + n <= from) {
      seen += n;
      continue;
    }
    for (auto i = from > seen ? from - seen : 0; i < n && page.items.size() < count; ++i)
      page.items.push_back(chunk->items[i].get());
    seen += n;
    if (page.items.size() == count)
      break;
  }
  if (q.descending)
    std::reverse(page.items.begin(), page.items.end());
}

/// A match as a search ranks it by id or by price: the key and the id,
/// side by side, so ranking thousands of matches reads one array.
struct ranked {
  std::int64_t key;
  std::int64_t id;
};

/// A query's matches before ranking: those the snapshot's index answered
/// (filtered there; none edited or erased since its build), with their
/// key when it ranks by id or price, and items checked directly (those
/// edited since, or every item when the needle is too short for the
/// index).
struct query_matches {
  std::vector<ranked> indexed;
  std::vector<const catalog_item*> direct;
  std::size_t size() const {
    return indexed.size() + direct.size();
  }
};

bool ranks_in_index(const catalog_query& q) {
  return q.sort_by != "name" && q.sort_by != "stock";
}

bool ranks_by_price(const catalog_query& q) {
  return q.sort_by == "price";
}

/// What rank_by_key sorts on: the price, or else the id (the default
/// order). Both the index's entries and the directly checked items are
/// keyed with it.
std::int64_t rank_key(bool by_price, std::int64_t id, cents price) {
  return by_price ? price : id;
}

/// The page's range of a ranking of `n` matches: [first, end).
std::pair<std::size_t, std::size_t> page_range(const catalog_query& q, std::size_t n) {
  auto first = q.page_size == 0 ? 0 : (q.page - 1) * q.page_size;
  auto end = q.page_size == 0 ? n : std::min(n, first + q.page_size);
  return {std::min(first, n), end};
}

/// Ranks by id or price from the index's arrays and the direct items' own
/// fields; only the page's items are looked up. Ties fall back to the
/// (unique) id, so the order is total and sorting only as far as the page
/// ends gives the same page as a full sort.
void rank_by_key(const catalog_query& q, query_matches found, catalog_page& page) {
  const auto& snap = *page.snapshot;
  auto by_price = ranks_by_price(q);
  auto all = std::move(found.indexed);
  for (const auto* item : found.direct)
    all.push_back({rank_key(by_price, item->product.id, item->product.price), item->product.id});
  auto [first, end] = page_range(q, all.size());
  if (first == end)
    return;
  auto before = [descending = q.descending](const ranked& a, const ranked& b) {
    auto lt = [](const ranked& x, const ranked& y) {
      return x.key != y.key ? x.key < y.key : x.id < y.id;
    };
    return descending ? lt(b, a) : lt(a, b);
  };
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(end), all.end(),
                    before);
  for (auto i = first; i < end; ++i)
    if (const auto* item = snap.find(all[i].id))
      page.items.push_back(item);
}

/// Ranks by name or stock: stock changes without a new index, so these
/// read every match's item.
void rank_by_item(const catalog_query& q, const query_matches& found, catalog_page& page) {
  const auto& snap = *page.snapshot;
  std::vector<std::int64_t> ids;
  ids.reserve(found.indexed.size());
  for (const auto& r : found.indexed)
    ids.push_back(r.id);
  std::vector<const catalog_item*> hits;
  hits.reserve(found.size());
  snap.for_each_of(ids, [&](const catalog_item& item) { hits.push_back(&item); });
  hits.insert(hits.end(), found.direct.begin(), found.direct.end());
  auto key = [&](const catalog_item* a, const catalog_item* b) {
    if (q.sort_by == "name" && a->product.name != b->product.name)
      return a->product.name < b->product.name;
    if (q.sort_by == "stock" && a->stock != b->stock)
      return a->stock < b->stock;
    return a->product.id < b->product.id;
  };
  auto before = [&](auto a, auto b) { return q.descending ? key(b, a) : key(a, b); };
  auto [first, end] = page_range(q, hits.size());
  if (first == end)
    return;
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(end), hits.end(),
                    before);
  page.items.assign(hits.begin() + static_cast<std::ptrdiff_t>(first),
                    hits.begin() + static_cast<std::ptrdiff_t>(end));
}

} // namespace

catalog_page catalog_view::query(const catalog_query& q) const {
  catalog_page page;
  page.snapshot = snapshot();
  auto search = to_lower(q.search);
  auto category = to_lower(q.category);
  bool filtered = !search.empty() || !category.empty() || q.min_price || q.max_price;
  if (!filtered && q.page_size > 0 && orders_by_id(q)) {
    page_in_id_order(q, page);
    return page;
  }
  const auto& snap = *page.snapshot;
  auto in_price_range = [&](cents price) {
    return (!q.min_price || price >= *q.min_price) && (!q.max_price || price <= *q.max_price);
  };
  auto passes_filters = [&](const catalog_item& item) {
    return (category.empty() || item.category_key == category) &&
           in_price_range(item.product.price);
  };
  auto holds_needle = [&](const catalog_item& item) {
    return search.empty() || item.search_text.find(search) != std::string::npos;
  };
  query_matches found;
  auto by_price = ranks_by_price(q);
  // The index's matches (every indexed item when there is no needle),
  // filtered in its arrays, less the ids edited or erased since its
  // build: those are checked on their items.
  const auto& index = *snap.index;
  auto code = category.empty() ? std::nullopt : index.category_code(category);
  bool any_in_category = category.empty() || code.has_value();
  const auto& unindexed = snap.unindexed;
  auto edited = unindexed.begin();
  auto consider = [&](text_index::position p) {
    const auto& e = index.at(p);
    // Positions ascend with ids, and so does `unindexed`.
    while (edited != unindexed.end() && *edited < e.id)
      ++edited;
    if (edited != unindexed.end() && *edited == e.id)
      return;
    if ((!code || e.category == *code) && in_price_range(e.price))
      found.indexed.push_back({rank_key(by_price, e.id, e.price), e.id});
  };
  if (any_in_category) {
    if (search.empty()) {
      for (std::size_t p = 0; p < index.size(); ++p)
        consider(static_cast<text_index::position>(p));
    } else {
      auto matched = index.matching(search);
      found.indexed.reserve(matched->size());
      for (auto p : *matched)
        consider(p);
    }
  }
  snap.for_each_of(unindexed, [&](const catalog_item& item) {
    if (passes_filters(item) && holds_needle(item))
      found.direct.push_back(&item);
  });
  page.total = found.size();
  if (ranks_in_index(q))
    rank_by_key(q, std::move(found), page);
  else
    rank_by_item(q, found, page);
  return page;
}

} // namespace emporium
