// The catalog's write side on the deterministic scheduler: stock changes
// reach the read model (batched: the latest level per product wins), and a
// new snapshot shares every item it did not change with the previous one.
#include "actors/catalog/catalog_actor.hpp"
#include "fixture.hpp"

using namespace emporium;
using namespace emporium::testing;

namespace {

struct catalog_fixture : deterministic {
  std::shared_ptr<catalog_view> view = std::make_shared<catalog_view>();
  catalog_actor catalog;

  void open(const std::string& name) {
    catalog_files files{fresh_db(name), {}, persistence::durability::normal};
    persistence::prepare_database(files.global_db, files.level);
    catalog = spawn_catalog(sys, files, view);
    sched.run();
  }

  ~catalog_fixture() {
    caf::anon_send_exit(catalog, caf::exit_reason::kill);
    sched.run();
  }

  product_record create(const std::string& name) {
    auto box = std::make_shared<std::optional<product_record>>();
    auto target = catalog;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(target, caf::infinite,
                    create_product{product_record{0, name, "", 1000, "Books"}})
        .then([box](product_record& p) { *box = p; });
    });
    sched.run();
    REQUIRE(box->has_value());
    return **box;
  }
};

} // namespace

TEST_CASE_FIXTURE(catalog_fixture, "stock changes reach the view, the latest wins, unchanged items are shared") {
  open("catalog-stock");
  auto a = create("A");
  auto b = create("B");
  auto before = view->snapshot();
  for (std::int64_t level : {5, 4, 3})
    caf::anon_send(catalog, stock_level{a.id, level});
  caf::anon_send(catalog, stock_level{b.id, 9});
  sched.run();
  auto after = view->snapshot();
  REQUIRE(after->find(a.id) != nullptr);
  CHECK(after->find(a.id)->stock == 3); // the latest level wins
  CHECK(after->find(b.id)->stock == 9);
  CHECK(after->find(a.id)->json.find("\"stockQuantity\":3") != std::string::npos);
  CHECK(before->find(a.id)->stock == 0); // an older snapshot is never changed
  // Unchanged items are shared with the previous snapshot, not copied.
  auto c = create("C");
  caf::anon_send(catalog, stock_level{c.id, 1});
  sched.run();
  auto latest = view->snapshot();
  CHECK(latest->find(a.id) == after->find(a.id));
}
