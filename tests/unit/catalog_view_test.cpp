// The catalog read model: filters, sorting, paging, updates.
#include "actors/catalog/catalog_view.hpp"
#include "actors/catalog/demo_catalog.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
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

namespace {

product_record numbered(std::int64_t id) {
  return {id, "Item " + std::to_string(id % 97), "About item " + std::to_string(id),
          100 + (id * 37) % 5000, "Cat" + std::to_string(id % 7)};
}

/// Products 1..count, each numbered().
std::vector<product_record> numbered_products(std::int64_t count) {
  std::vector<product_record> products;
  for (std::int64_t id = 1; id <= count; ++id)
    products.push_back(numbered(id));
  return products;
}

using model_t = std::map<std::int64_t, std::pair<product_record, std::int64_t>>;

std::string lowered(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Every match of `q` in `model` in the query's order, by a plain filter
/// and full sort: the reference for the chunked view and its index.
/// `texts`, when given, holds each product's lower-cased search text.
std::vector<std::int64_t> reference_ranking(const model_t& model, const catalog_query& q,
                                            const std::map<std::int64_t, std::string>* texts =
                                              nullptr) {
  std::vector<std::pair<const product_record*, std::int64_t>> all;
  auto needle = lowered(q.search);
  for (const auto& [id, entry] : model) {
    const auto& p = entry.first;
    if (!needle.empty() &&
        (texts ? texts->at(id) : lowered(p.name + "\n" + p.description)).find(needle) ==
          std::string::npos)
      continue;
    if (!q.category.empty() && lowered(p.category) != lowered(q.category))
      continue;
    if ((q.min_price && p.price < *q.min_price) || (q.max_price && p.price > *q.max_price))
      continue;
    all.emplace_back(&p, entry.second);
  }
  auto key = [&](const auto& a, const auto& b) {
    if (q.sort_by == "name" && a.first->name != b.first->name)
      return a.first->name < b.first->name;
    if (q.sort_by == "price" && a.first->price != b.first->price)
      return a.first->price < b.first->price;
    if (q.sort_by == "stock" && a.second != b.second)
      return a.second < b.second;
    return a.first->id < b.first->id;
  };
  std::sort(all.begin(), all.end(), [&](auto& a, auto& b) {
    return q.descending ? key(b, a) : key(a, b);
  });
  std::vector<std::int64_t> ids;
  for (const auto& entry : all)
    ids.push_back(entry.first->id);
  return ids;
}

/// The page of a ranking that `q` asks for.
std::vector<std::int64_t> page_of(const std::vector<std::int64_t>& all, const catalog_query& q) {
  if (q.page_size == 0)
    return all;
  std::vector<std::int64_t> ids;
  auto first = (q.page - 1) * q.page_size;
  for (auto i = first; i < all.size() && i < first + q.page_size; ++i)
    ids.push_back(all[i]);
  return ids;
}

std::vector<std::int64_t> ids_of(const catalog_page& page) {
  std::vector<std::int64_t> ids;
  for (const auto* item : page.items)
    ids.push_back(item->product.id);
  return ids;
}

} // namespace

TEST_CASE("a large catalog in chunks: every change and page agrees with a plain sorted model") {
  catalog_view view;
  std::map<std::int64_t, std::pair<product_record, std::int64_t>> model;
  std::vector<product_record> initial;
  catalog_view::stock_levels levels;
  for (std::int64_t id = 1; id <= 3000; id += 2) { // gaps: inserts land inside chunks
    initial.push_back(numbered(id));
    levels.emplace_back(id, id % 11);
    model[id] = {numbered(id), id % 11};
  }
  view.reset(initial, levels);
  REQUIRE(view.snapshot()->chunks.size() > 4);
  // Searches (through the index, its remembered matches and the ids
  // changed since it was built) find exactly what a scan finds, short
  // needles too. Checked during the walk too, so matches remembered
  // before an edit, a deletion or a rebuild are checked after it.
  auto check_searches = [&](bool ranked_too) {
    for (const char* needle : {"item 1", "ABOUT ITEM 12", "tem 3", "zzz", "ab", "m", "\nabout"}) {
      CAPTURE(needle);
      catalog_query q;
      q.search = needle;
      CHECK(ids_of(view.query(q)) == reference_ranking(model, q));
    }
    // Filtered and ranked in the index's arrays (id, price), or on the
    // items (name, stock), with and without a needle: the same pages and
    // totals as a full sort of the model.
    if (!ranked_too)
      return;
    std::map<std::int64_t, std::string> texts;
    for (const auto& [id, entry] : model)
      texts[id] = lowered(entry.first.name + "\n" + entry.first.description);
    for (const char* needle : {"", "item 1", "tem 3", "ab"})
      for (const char* sort : {"id", "price", "name", "stock"})
        for (int filter = 0; filter < 3; ++filter)
          for (bool descending : {false, true})
            for (std::size_t page : {1u, 4u}) {
              catalog_query q;
              q.search = needle;
              q.sort_by = sort;
              q.descending = descending;
              q.page = page;
              q.page_size = 20;
              if (filter == 1)
                q.category = "CAT3";
              if (filter == 2) {
                q.min_price = 1000;
                q.max_price = 3000;
              }
              CAPTURE(needle);
              CAPTURE(sort);
              CAPTURE(filter);
              CAPTURE(descending);
              CAPTURE(page);
              auto got = view.query(q);
              auto expected = reference_ranking(model, q, &texts);
              CHECK(got.total == expected.size());
              CHECK(ids_of(got) == page_of(expected, q));
            }
  };
  check_searches(true); // remembers the matches of the first index
  std::uint32_t x = 12345; // a fixed pseudo-random walk: the test replays exactly
  auto next = [&] { return x = x * 1103515245u + 12345u, (x >> 8) % 4000; };
  for (int step = 0; step < 3000; ++step) {
    auto id = static_cast<std::int64_t>(next()) + 1;
    if (step % 250 == 0)
      check_searches(step == 1500);
    switch (step % 4) {
      case 0:
        view.upsert(numbered(id));
        model[id] = {numbered(id), model.count(id) ? model[id].second : 0};
        break;
      case 1: { // a new text: a remembered match may no longer hold
        auto edited = numbered(id);
        edited.description = "About thing " + std::to_string(id + step);
        view.upsert(edited);
        model[id] = {edited, model.count(id) ? model[id].second : 0};
        break;
      }
      case 2:
        view.set_stock({{id, step}});
        if (model.count(id))
          model[id].second = step;
        break;
      case 3:
        view.erase(id);
        model.erase(id);
        break;
    }
  }
  auto snap = view.snapshot();
  CHECK(snap->size == model.size());
  std::vector<std::int64_t> walked;
  snap->for_each([&](const catalog_item& item) { walked.push_back(item.product.id); });
  std::vector<std::int64_t> expected;
  for (const auto& [id, entry] : model) {
    expected.push_back(id);
    REQUIRE(snap->find(id) != nullptr);
    CHECK(snap->find(id)->stock == entry.second);
  }
  CHECK(walked == expected);
  for (const auto& chunk : snap->chunks) {
    CHECK_FALSE(chunk->items.empty());
    CHECK(chunk->items.size() <= catalog_chunk_max);
  }
  check_searches(true);
  // Once the background builds are done, the index is recent again.
  view.wait_for_index();
  CHECK(view.snapshot()->unindexed.size() <= 256);
  check_searches(true);
  for (const char* sort : {"id", "price", "stock"})
    for (bool descending : {false, true})
      for (std::size_t page : {1u, 2u, 37u, 1000u}) {
        catalog_query q;
        q.sort_by = sort;
        q.descending = descending;
        q.page = page;
        q.page_size = 20;
        CAPTURE(sort);
        CAPTURE(descending);
        CAPTURE(page);
        auto got = view.query(q);
        CHECK(got.total == model.size());
        CHECK(ids_of(got) == page_of(reference_ranking(model, q), q));
      }
}

TEST_CASE("a stock change copies one chunk; the others are shared with the last snapshot") {
  catalog_view view;
  view.reset(numbered_products(100'000), {});
  auto before = view.snapshot();
  view.set_stock({{50'000, 3}});
  auto after = view.snapshot();
  REQUIRE(after->chunks.size() == before->chunks.size());
  std::size_t copied = 0;
  for (std::size_t i = 0; i < after->chunks.size(); ++i)
    copied += after->chunks[i] != before->chunks[i];
  CHECK(copied == 1);
  CHECK(after->find(50'000)->stock == 3);
  CHECK(before->find(50'000)->stock == 0);
  CHECK(after->categories.size() == 7);
}

TEST_CASE("the text index finds every item holding the needle, once, in position order") {
  text_index index;
  index.add(1, "red kettle\nboils water", 2500, "kitchen");
  index.add(2, "blue mug\nholds tea", 800, "kitchen");
  index.add(3, "novel\na story about a kettle", 1200, "books");
  index.add(std::int64_t{1} << 40, "a wide id\nkettle kettle", 100, "books"); // beyond 32 bits
  index.build();
  using positions = std::vector<text_index::position>;
  CHECK(*index.matching("kettle") == positions{0, 2, 3}); // item 3 holds it twice
  CHECK(*index.matching("mug\nho") == positions{1});
  CHECK(index.matching("qqq")->empty());
  // Every piece present, the string itself not.
  CHECK(index.matching("about a story")->empty());
  CHECK(*index.matching("tea") == positions{1});
  // Needles of one or two bytes are found like any other.
  CHECK(*index.matching("u") == positions{1, 2});
  CHECK(*index.matching("d\n") == positions{3});
  CHECK(*index.matching("e\n") == positions{0});
  // The whole text, and one byte past it.
  CHECK(*index.matching("blue mug\nholds tea") == positions{1});
  CHECK(index.matching("blue mug\nholds teas")->empty());
  // What a search filters and ranks by, per position.
  REQUIRE(index.size() == 4);
  CHECK(index.at(3).id == std::int64_t{1} << 40);
  CHECK(index.at(1).price == 800);
  REQUIRE(index.category_code("books").has_value());
  CHECK(index.at(2).category == *index.category_code("books"));
  CHECK(index.at(0).category == *index.category_code("kitchen"));
  CHECK(index.at(0).category != index.at(2).category);
  CHECK_FALSE(index.category_code("garden").has_value());
}

TEST_CASE("the text index never matches across two items, even with their separator byte") {
  using namespace std::string_literals;
  text_index index;
  index.add(1, "boils water", 100, "c");
  index.add(2, "blue mug", 100, "c");
  index.add(3, "a nul\0byte inside"s, 100, "c"); // a text may hold the separator
  index.add(4, "\0"s, 100, "c");
  index.build();
  using positions = std::vector<text_index::position>;
  CHECK(index.matching("waterblue")->empty());
  CHECK(index.matching("water\0blue"s)->empty());
  CHECK(index.matching("r\0"s)->empty());
  CHECK(*index.matching("l\0b"s) == positions{2});
  CHECK(*index.matching("\0"s) == positions{2, 3});
  CHECK(index.matching("\0\0"s)->empty());
}

TEST_CASE("the text index agrees with a plain search of each text for needles rare and common") {
  // Random texts over a small alphabet (the separator byte among it), so
  // that short needles match most items and long ones a few: both ways of
  // collecting a range's items (sorted, or marked per item) are taken.
  std::mt19937 random{7};
  const std::string alphabet{"ab c\0", 5};
  auto random_text = [&](std::size_t max) {
    std::string text(random() % (max + 1), ' ');
    for (auto& c : text)
      c = alphabet[random() % alphabet.size()];
    return text;
  };
  std::vector<std::string> texts;
  text_index index;
  for (std::int64_t id = 0; id < 3'000; ++id) {
    // One rare needle twice in one text: a few suffixes, one item.
    texts.push_back(id == 1'500 ? std::string{"zq zq"} : random_text(id % 10 == 0 ? 60 : 12));
    index.add(id, texts.back(), 100, "c");
  }
  index.build();
  std::set<std::string> needles;
  for (int i = 0; i < 300; ++i)
    needles.insert(random_text(9));
  needles.insert("zq");
  needles.insert(texts[17]);
  needles.insert(texts[2'990] + "a");
  for (const auto& needle : needles) {
    if (needle.empty())
      continue;
    std::vector<text_index::position> expected;
    for (std::size_t p = 0; p < texts.size(); ++p)
      if (texts[p].find(needle) != std::string::npos)
        expected.push_back(static_cast<text_index::position>(p));
    CHECK_MESSAGE(*index.matching(needle) == expected, "needle of ", needle.size(), " bytes");
  }
}

TEST_CASE("a product edited after the index was built is found by its new text, not its old") {
  catalog_view view;
  view.reset({{1, "Red Kettle", "Boils water", 2500, "Kitchen"},
              {2, "Blue Mug", "Holds tea", 800, "Kitchen"}},
             {});
  view.upsert({2, "Green Teapot", "Brews tea", 1800, "Kitchen"});
  view.upsert({3, "Travel Kettle", "Small", 1900, "Kitchen"});
  view.erase(1);
  catalog_query q;
  q.search = "kettle";
  CHECK(ids_of(view.query(q)) == std::vector<std::int64_t>{3});
  q.search = "teapot";
  CHECK(ids_of(view.query(q)) == std::vector<std::int64_t>{2});
  q.search = "blue mug";
  CHECK(view.query(q).items.empty());
  // Edited, new and erased: each checked on its item (or not found).
  CHECK(view.snapshot()->unindexed == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("edits made while an index is built in the background stay checked on their items") {
  catalog_view view;
  view.reset(numbered_products(40'000), {});
  auto first_index = view.snapshot()->index;
  // Past 1/32 of the catalog: the next edit starts a build (tens of
  // milliseconds at least), and the edits after it land while it runs.
  auto renamed = [](std::int64_t id, const std::string& word) {
    auto p = numbered(id);
    p.name = word + " " + std::to_string(id);
    return p;
  };
  for (std::int64_t id = 1; id <= 1'251; ++id)
    view.upsert(renamed(id, "early"));
  for (std::int64_t id = 20'001; id <= 20'100; ++id) {
    view.upsert(renamed(id, "late"));
    catalog_query q;
    q.search = "late " + std::to_string(id);
    CHECK(ids_of(view.query(q)) == std::vector<std::int64_t>{id});
  }
  view.erase(2);
  view.wait_for_index();
  auto snap = view.snapshot();
  CHECK(snap->index != first_index);
  CHECK(snap->unindexed.size() <= 1'250);
  catalog_query q;
  q.search = "early 1";
  q.page_size = 0;
  CHECK(view.query(q).total == 1 + 10 + 100 + 252); // 1, 10-19, 100-199, 1000-1251
  for (std::int64_t id : {1, 3, 1'251, 20'001, 20'050, 20'100}) {
    CAPTURE(id);
    q.search = (id > 20'000 ? "late " : "early ") + std::to_string(id);
    auto found = ids_of(view.query(q));
    REQUIRE_FALSE(found.empty());
    CHECK(found.front() == id);
    // The old text is found no more.
    q.search = "item " + std::to_string(id % 97) + "\n";
    for (auto other : ids_of(view.query(q)))
      CHECK(other != id);
  }
  q.search = "early 2\n";
  CHECK(view.query(q).items.empty()); // erased
}

TEST_CASE("the text index remembers at most its bounds of matches, then starts afresh") {
  text_index index;
  index.add(1, "red kettle", 100, "kitchen");
  index.build();
  CHECK(index.remembered("kettle") == nullptr);
  auto kept = index.matching("kettle"); // found, checked and remembered
  REQUIRE(kept != nullptr);
  CHECK(index.remembered("kettle") == kept);
  CHECK(*index.remembered("kettle") == std::vector<text_index::position>{0});
  // Needles from any client: the 257th forgets the first 256.
  for (std::size_t i = 1; i < text_index::max_remembered_needles; ++i)
    index.remember("needle " + std::to_string(i), {});
  CHECK(index.remembered("kettle") != nullptr);
  index.remember("one too many", {});
  CHECK(index.remembered("kettle") == nullptr);
  CHECK(index.remembered("one too many") != nullptr);
  // A list larger than the whole bound is answered but not kept, and the
  // others stay.
  std::vector<text_index::position> huge(text_index::max_remembered_matches + 1);
  CHECK(index.remember("huge", huge)->size() == huge.size());
  CHECK(index.remembered("huge") == nullptr);
  CHECK(index.remembered("one too many") != nullptr);
}
