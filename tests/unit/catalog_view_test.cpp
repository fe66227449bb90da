// The catalog read model: filters, sorting, paging, updates.
#include "actors/catalog/catalog_view.hpp"
#include "actors/catalog/demo_catalog.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace emporium;

TEST_CASE("queries filter case-insensitively, sort and page") {
  catalog_view view;
  view.reset({{1, "Red Kettle", "Boils water", 2500, "Kitchen"},
              {2, "Blue Mug", "Holds TEA", 800, "Kitchen"},
              {3, "Novel", "A story about a kettle", 1200, "Books"}},
             {{1, 5}, {2, 0}, {3, 9}});
  catalog_query q;
  q.search = "KETTLE";
  auto page = view.query(q);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0]->product.id == 1);
  q = {};
  q.category = "kitchen";
  q.max_price = 1000;
  page = view.query(q);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0]->product.name == "Blue Mug");
  CHECK(page.items[0]->stock == 0);
  q = {};
  q.sort_by = "price";
  q.descending = true;
  q.page = 2;
  q.page_size = 2;
  page = view.query(q);
  CHECK(page.total == 3);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0]->product.id == 2);
  CHECK(view.snapshot()->categories == std::vector<std::string>{"Books", "Kitchen"});
}

TEST_CASE("updates: upsert, stock, erase; old snapshots stay valid") {
  catalog_view view;
  view.upsert({7, "Lamp", "", 999, "Home"});
  auto before = view.snapshot();
  view.set_stock({{7, 4}, {99, 1}}); // 99 is unknown: ignored
  view.upsert({7, "Lamp XL", "", 1299, "Home"});
  CHECK(before->find(7)->stock == 0);
  auto now = view.snapshot();
  CHECK(now->find(7)->stock == 4);
  CHECK(now->find(7)->product.name == "Lamp XL");
  view.erase(7);
  CHECK(view.snapshot()->find(7) == nullptr);
  CHECK(view.snapshot()->categories.empty());
}

TEST_CASE("the demo catalog is deterministic and realistic") {
  auto a = make_demo_catalog();
  auto b = make_demo_catalog();
  REQUIRE(a.size() >= 200);
  CHECK(a.size() == b.size());
  CHECK(a[17].product.name == b[17].product.name);
  CHECK(a[17].product.price == b[17].product.price);
  std::set<std::string> categories;
  for (const auto& d : a) {
    CHECK(d.product.price > 0);
    CHECK(d.stock >= 0);
    categories.insert(d.product.category);
  }
  CHECK(categories.size() >= 5);
}
