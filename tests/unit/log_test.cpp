// Log lines: the JSON and text formats, escaping of hostile field values,
// levels.
#include "support/log.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace emporium;

TEST_CASE("a JSON line has ts, level, node, msg first and escapes hostile values") {
  log::settings s{true, log::level::info, "n1"};
  auto line = log::format_line(s, log::level::warn, "slow_request",
                               {{"route", "/api/x\"\n{}"}, {"bad", std::string{"\xff\xfe"}}},
                               1'796'053'831'346);
  CHECK(line.rfind(R"({"ts":"2026-11-30T)", 0) == 0);
  CHECK(line.find('\n') == std::string::npos); // one line, whatever the values hold
  auto j = nlohmann::json::parse(line);
  CHECK(j["ts"] == "2026-11-30T15:50:31.346Z");
  CHECK(j["level"] == "warn");
  CHECK(j["node"] == "n1");
  CHECK(j["msg"] == "slow_request");
  CHECK(j["route"] == "/api/x\"\n{}");
  CHECK(j["bad"] == "\xEF\xBF\xBD\xEF\xBF\xBD"); // invalid UTF-8 replaced, not thrown
}

TEST_CASE("a text line quotes values that hold spaces, quotes or newlines") {
  log::settings s{false, log::level::info, "n2"};
  auto line = log::format_line(s, log::level::info, "starting",
                               {{"bind", "127.0.0.1"}, {"seeds", "a b"}, {"evil", "x\ny=1"}},
                               0);
  CHECK(line == "1970-01-01T00:00:00.000Z INFO n2 starting bind=127.0.0.1 seeds=\"a b\" "
                "evil=\"x\\ny=1\"");
}

TEST_CASE("levels parse by name and filter") {
  CHECK(log::parse_level("debug") == log::level::debug);
  CHECK(log::parse_level("warn") == log::level::warn);
  CHECK_FALSE(log::parse_level("loud").has_value());
  log::configure({true, log::level::warn, "t"});
  CHECK_FALSE(log::enabled(log::level::info));
  CHECK(log::enabled(log::level::error));
  log::configure({true, log::level::off, "t"});
  CHECK_FALSE(log::enabled(log::level::error));
  log::configure({true, log::level::info, "local"});
}
