// The catalog read model (see catalog_view.hpp).
#include "actors/catalog/catalog_view.hpp"

#include "support/json_field.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace emporium {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace

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
    p, stock, lower(p.name + "\n" + p.description), lower(p.category), render_product_json(p, stock)});
}

/// The item with a new stock level (its texts are copied once, here).
std::shared_ptr<const catalog_item> with_stock(const catalog_item& item, std::int64_t stock) {
  auto next = std::make_shared<catalog_item>(item);
  next->stock = stock;
  next->json = render_product_json(item.product, stock);
  return next;
}

void rebuild_categories(catalog_snapshot& snap) {
  std::set<std::string> names;
  for (const auto& item : snap.items)
    if (!item->product.category.empty())
      names.insert(item->product.category);
  snap.categories.assign(names.begin(), names.end());
}

template <class Items>
auto position(Items& items, std::int64_t id) {
  return std::lower_bound(items.begin(), items.end(), id,
                          [](const auto& i, std::int64_t v) { return i->product.id < v; });
}

} // namespace

const catalog_item* catalog_snapshot::find(std::int64_t id) const {
  auto it = position(items, id);
  return it != items.end() && (*it)->product.id == id ? it->get() : nullptr;
}

catalog_view::catalog_view() : current_(std::make_shared<catalog_snapshot>()) {
}

std::shared_ptr<const catalog_snapshot> catalog_view::snapshot() const {
  return std::atomic_load(&current_);
}

void catalog_view::publish(std::shared_ptr<catalog_snapshot> next) {
  std::atomic_store(&current_, std::shared_ptr<const catalog_snapshot>(std::move(next)));
}

void catalog_view::upsert(const product_record& product) {
  std::lock_guard guard{write_mutex_};
  auto next = std::make_shared<catalog_snapshot>(*snapshot());
  auto it = position(next->items, product.id);
  if (it != next->items.end() && (*it)->product.id == product.id)
    *it = make_item(product, (*it)->stock);
  else
    next->items.insert(it, make_item(product, 0));
  rebuild_categories(*next);
  publish(std::move(next));
}

void catalog_view::erase(std::int64_t id) {
  std::lock_guard guard{write_mutex_};
  auto next = std::make_shared<catalog_snapshot>(*snapshot());
  auto it = position(next->items, id);
  if (it == next->items.end() || (*it)->product.id != id)
    return;
  next->items.erase(it);
  rebuild_categories(*next);
  publish(std::move(next));
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
  for (const auto& [id, available] : changes) {
    auto it = position(next->items, id);
    if (it == next->items.end() || (*it)->product.id != id || (*it)->stock == available)
      continue;
    *it = with_stock(**it, available);
  }
  publish(std::move(next));
}

void catalog_view::reset(const std::vector<product_record>& products,
                         const stock_levels& stock) {
  std::lock_guard guard{write_mutex_};
  auto next = std::make_shared<catalog_snapshot>();
  for (const auto& p : products)
    next->items.push_back(make_item(p, 0));
  std::sort(next->items.begin(), next->items.end(),
            [](const auto& a, const auto& b) { return a->product.id < b->product.id; });
  for (const auto& [id, available] : stock) {
    auto it = position(next->items, id);
    if (it != next->items.end() && (*it)->product.id == id)
      *it = with_stock(**it, available);
  }
  rebuild_categories(*next);
  publish(std::move(next));
}

catalog_page catalog_view::query(const catalog_query& q) const {
  catalog_page page;
  page.snapshot = snapshot();
  auto search = lower(q.search);
  auto category = lower(q.category);
  std::vector<const catalog_item*> hits;
  for (const auto& shared : page.snapshot->items) {
    const auto& item = *shared;
    if (!category.empty() && item.category_key != category)
      continue;
    if (q.min_price && item.product.price < *q.min_price)
      continue;
    if (q.max_price && item.product.price > *q.max_price)
      continue;
    if (!search.empty() && item.search_text.find(search) == std::string::npos)
      continue;
    hits.push_back(&item);
  }
  auto key = [&](const catalog_item* a, const catalog_item* b) {
    if (q.sort_by == "name" && a->product.name != b->product.name)
      return a->product.name < b->product.name;
    if (q.sort_by == "price" && a->product.price != b->product.price)
      return a->product.price < b->product.price;
    if (q.sort_by == "stock" && a->stock != b->stock)
      return a->stock < b->stock;
    return a->product.id < b->product.id;
  };
  std::stable_sort(hits.begin(), hits.end(), [&](auto a, auto b) {
    return q.descending ? key(b, a) : key(a, b);
  });
  page.total = hits.size();
  if (q.page_size == 0) {
    page.items = std::move(hits);
    return page;
  }
  auto first = (q.page - 1) * q.page_size;
  if (first < hits.size())
    page.items.assign(hits.begin() + first,
                      hits.begin() + std::min(hits.size(), first + q.page_size));
  return page;
}

} // namespace emporium
