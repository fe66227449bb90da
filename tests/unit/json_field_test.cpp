// Reading untrusted JSON: types and ranges checked, nothing thrown.
#include "support/json_field.hpp"

#include <doctest/doctest.h>

using namespace emporium;
using nlohmann::json;

TEST_CASE("fields of the wrong type or out of range are nullopt") {
  auto j = json::parse(R"({"s":"x","i":5,"big":9223372036854775807,"u":18446744073709551615,
                          "neg":-3,"f":1.5,"b":true,"n":null,"a":[1,"two"]})");
  CHECK(json_read::field<std::string>(j, "s") == "x");
  CHECK_FALSE(json_read::field<std::string>(j, "i"));
  CHECK(json_read::field<std::int32_t>(j, "i") == 5);
  CHECK_FALSE(json_read::field<std::int32_t>(j, "big"));
  CHECK(json_read::field<std::int64_t>(j, "big") == INT64_MAX);
  CHECK_FALSE(json_read::field<std::int64_t>(j, "u"));
  CHECK(json_read::field<std::uint64_t>(j, "u") == UINT64_MAX);
  CHECK_FALSE(json_read::field<std::uint32_t>(j, "neg"));
  CHECK_FALSE(json_read::field<int>(j, "f")); // no silent truncation
  CHECK(json_read::field<double>(j, "f") == 1.5);
  CHECK_FALSE(json_read::field<int>(j, "b"));
  CHECK(json_read::field<bool>(j, "b") == true);
  CHECK_FALSE(json_read::field<std::string>(j, "n"));
  CHECK_FALSE(json_read::field<std::string>(j, "missing"));
  CHECK(json_read::item<int>(j["a"], 0) == 1);
  CHECK_FALSE(json_read::item<int>(j["a"], 1));
  CHECK_FALSE(json_read::item<int>(j["a"], 2));
  CHECK_FALSE(json_read::field<int>(json::array(), "i")); // not an object
  CHECK_FALSE(json_read::item<int>(json::object(), 0));   // not an array
}

TEST_CASE("parse refuses malformed text, invalid UTF-8 and deep nesting") {
  CHECK(json_read::parse(R"({"a":[1,2]})").has_value());
  CHECK_FALSE(json_read::parse("{"));
  CHECK_FALSE(json_read::parse("\"\xff\""));
  CHECK_FALSE(json_read::parse(""));
  CHECK(json_read::parse(std::string(63, '[') + std::string(63, ']')).has_value());
  CHECK_FALSE(json_read::parse(std::string(65, '[') + std::string(65, ']')));
  CHECK_FALSE(json_read::parse(std::string(100000, '[')));
}
