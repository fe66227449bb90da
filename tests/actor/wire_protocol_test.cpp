// The wire fingerprint: what it reads from the message types, and that a
// layout change anywhere (a field, its width, a nested element) shows.
#include "actors/protocol.hpp"
#include "actors/wire_protocol.hpp"
#include "actors/wire_schema.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace wire_test {

struct line_v1 {
  std::int64_t product = 0;
  std::int32_t quantity = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_v1& x) {
  return f(caf::meta::type_name("line"), x.product, x.quantity);
}

struct line_wider {
  std::int64_t product = 0;
  std::int64_t quantity = 0; // widened
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_wider& x) {
  return f(caf::meta::type_name("line"), x.product, x.quantity);
}

struct line_named {
  std::int64_t product = 0;
  std::int32_t quantity = 0;
  std::string name; // added
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_named& x) {
  return f(caf::meta::type_name("line"), x.product, x.quantity, x.name);
}

template <class Line>
struct basket {
  std::vector<Line> lines;
  std::optional<std::string> note;
};
template <class Inspector, class Line>
typename Inspector::result_type inspect(Inspector& f, basket<Line>& x) {
  return f(caf::meta::type_name("basket"), x.lines, x.note);
}

} // namespace wire_test

using namespace emporium;

TEST_CASE("wire schema: a type's fields in order, with kinds, widths and nested element types") {
  CHECK(wire::schema_of<wire_test::line_v1>() == "{line:i64,i32,},");
  CHECK(wire::schema_of<wire_test::basket<wire_test::line_v1>>() ==
        "{basket:[{line:i64,i32,},],?s,},");
  // Emporium's own: an enum by its underlying type, a string.
  CHECK(wire::schema_of<entity_key>() == "{entity_key:eu8,s,},");
}

TEST_CASE("wire schema: a field widened, added, or changed inside a vector's element differs") {
  using namespace wire_test;
  auto v1 = wire::schema_of<basket<line_v1>>();
  CHECK(wire::schema_of<basket<line_wider>>() != v1);
  CHECK(wire::schema_of<basket<line_named>>() != v1);
  CHECK(wire::schema_of<line_named>() != wire::schema_of<line_v1>());
}

TEST_CASE("wire fingerprint: every registered message type is in it, and it is stable") {
  auto text = wire_schema_text();
  CHECK(text.rfind("revision " + std::to_string(wire_revision) + "\n", 0) == 0);
  // One line per registered type, each with its layout (a name is
  // interned in memory and its text on the wire).
  auto lines = std::count(text.begin(), text.end(), '\n');
  CHECK(lines == 1 + (caf::id_block::emporium::end - caf::id_block::emporium::begin));
  CHECK(text.find("emporium::cart_line {cart_line:i64,i32,i64,{s,},},\n") != std::string::npos);
  CHECK(text.find("emporium::place_order {place_order:") != std::string::npos);
  auto fp = wire_fingerprint();
  CHECK(fp.size() == 16);
  CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(wire_fingerprint() == fp);
}
