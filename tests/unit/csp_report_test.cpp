// Content security policy reports as browsers send them, and as anyone else
// might: both shapes read, every kept text bounded and stripped of what may
// carry personal data, anything else refused with a reason.
#include "http/csp_report.hpp"
#include "support/line_budget.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace emporium::http;
using namespace std::chrono_literals;

namespace {

csp_reports reports_of(const std::string& body) {
  auto parsed = parse_csp_reports(body);
  REQUIRE_MESSAGE(std::holds_alternative<csp_reports>(parsed), body);
  return std::get<csp_reports>(parsed);
}

std::string refusal_of(const std::string& body) {
  auto parsed = parse_csp_reports(body);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(parsed), body);
  return std::get<std::string>(parsed);
}

} // namespace

TEST_CASE("a level-2 report (report-uri, what Chrome and Firefox send) is read") {
  // Chrome's report for a script injected from another origin.
  auto r = reports_of(R"({"csp-report": {
    "document-uri": "http://127.0.0.1:8080/cart?session=abc#top",
    "referrer": "", "violated-directive": "script-src-elem",
    "effective-directive": "script-src-elem",
    "original-policy": "default-src 'self'; report-uri /api/csp-reports",
    "disposition": "enforce", "blocked-uri": "https://cdn.example.test/skimmer.js?card=4242",
    "line-number": 12, "column-number": 7, "source-file": "http://127.0.0.1:8080/assets/app.js",
    "status-code": 200, "script-sample": "window.cardNumber"}})");
  REQUIRE(r.violations.size() == 1);
  CHECK(r.ignored == 0);
  const auto& v = r.violations[0];
  CHECK(v.directive == "script-src-elem");
  CHECK(v.blocked == "https://cdn.example.test/skimmer.js"); // the query may hold data
  CHECK(v.document == "/cart");
  CHECK(v.source == "http://127.0.0.1:8080/assets/app.js");
  CHECK(v.line == 12);
  CHECK(v.enforced);
}

TEST_CASE("an older browser's violated-directive holds the whole directive: its name is kept") {
  auto r = reports_of(R"({"csp-report": {"violated-directive": "Script-Src 'self'",
    "blocked-uri": "inline", "document-uri": "https://shop.example", "disposition": "report"}})");
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].directive == "script-src");
  CHECK(r.violations[0].blocked == "inline");
  CHECK(r.violations[0].document == "/");
  CHECK_FALSE(r.violations[0].enforced);
  CHECK(r.violations[0].source.empty());
  CHECK(r.violations[0].line == 0);
}

TEST_CASE("a Reporting API batch: its CSP violations are read, other reports ignored") {
  auto r = reports_of(R"([
    {"type": "csp-violation", "age": 10, "url": "https://shop.example/", "user_agent": "x",
     "body": {"documentURL": "https://shop.example/orders/7", "blockedURL": "eval",
              "effectiveDirective": "script-src", "disposition": "enforce",
              "sourceFile": "https://shop.example/assets/app.js", "lineNumber": 3,
              "sample": "secret"}},
    {"type": "deprecation", "body": {"id": "x"}},
    {"type": "csp-violation", "body": {"documentURL": "https://shop.example/"}},
    {"type": "csp-violation", "body": "not an object"},
    7,
    {"type": "csp-violation", "body": {"effectiveDirective": "made-up-src", "blockedURL": "wss://x"}}
  ])");
  REQUIRE(r.violations.size() == 2);
  CHECK(r.ignored == 4);
  CHECK(r.violations[0].directive == "script-src");
  CHECK(r.violations[0].blocked == "eval");
  CHECK(r.violations[0].document == "/orders/7");
  CHECK(r.violations[0].line == 3);
  // An unknown directive is one label, however many names are made up.
  CHECK(r.violations[1].directive == "other");
  CHECK(r.violations[1].blocked == "wss://x");
}

TEST_CASE("a batch reads at most max_csp_reports_per_body violations") {
  std::string body = "[";
  for (int i = 0; i < 100; ++i)
    body += std::string{i ? "," : ""} +
            R"({"type":"csp-violation","body":{"effectiveDirective":"img-src"}})";
  body += "]";
  auto r = reports_of(body);
  CHECK(r.violations.size() == max_csp_reports_per_body);
  CHECK(r.ignored == 100 - max_csp_reports_per_body);
  CHECK(reports_of("[]").violations.empty());
}

TEST_CASE("what a report says is kept printable, bounded and without queries") {
  CHECK(csp_report_text("https://a.test/x?q=1#f") == "https://a.test/x");
  CHECK(csp_report_text("https://a.test/x#f?q") == "https://a.test/x");
  CHECK(csp_report_text("a b\r\nfake: line\x01\xc3\xa9") == "a%20b%0D%0Afake:%20line%01%C3%A9");
  CHECK(csp_report_text(std::string(300, ' ')) == [] {
    std::string escaped;
    for (int i = 0; i < 66; ++i)
      escaped += "%20";
    return escaped + "%2";
  }()); // cut at the bound, even inside an escape
  CHECK(csp_report_text(std::string(5000, 'x')).size() == max_csp_field_bytes);
  CHECK(csp_report_path("https://shop.example") == "/");
  CHECK(csp_report_path("https://shop.example/a/b?token=t") == "/a/b");
  CHECK(csp_report_path("/relative?x") == "/relative");
  CHECK(csp_report_path("about:blank") == "about:blank");
}

TEST_CASE("a line number that is not a small whole number is not kept") {
  for (const char* line : {"-1", "1.5", "\"12\"", "99999999999", "true", "null"}) {
    auto r = reports_of(std::string{R"({"csp-report":{"effective-directive":"img-src","line-number":)"} +
                        line + "}}");
    REQUIRE(r.violations.size() == 1);
    CHECK_MESSAGE(r.violations[0].line == 0, line);
  }
}

TEST_CASE("a body that is not a report is refused with a reason") {
  CHECK(refusal_of("").find("malformed JSON") != std::string::npos);
  CHECK(refusal_of("{\"csp-report\": ").find("malformed JSON") != std::string::npos);
  CHECK(refusal_of("\"csp-report\"").find("expected a CSP report") == 0);
  CHECK(refusal_of("{}").find("expected a CSP report") == 0);
  CHECK(refusal_of(R"({"csp-report": []})").find("expected a CSP report") == 0);
  CHECK(refusal_of(R"({"csp-report": "script-src"})").find("expected a CSP report") == 0);
  // Nesting is cheap to send and costly to hold.
  CHECK(refusal_of(std::string(10000, '[') + std::string(10000, ']')).find("malformed") == 0);
  // Invalid UTF-8 inside a string.
  CHECK(refusal_of("{\"csp-report\": {\"effective-directive\": \"\xff\"}}").find("malformed") == 0);
  // A report without a directive is not refused, only not counted.
  auto r = reports_of(R"({"csp-report": {"blocked-uri": "https://x.test"}})");
  CHECK(r.violations.empty());
  CHECK(r.ignored == 1);
}

TEST_CASE("the log budget writes a burst, then a few lines a second, and says what it held back") {
  emporium::line_budget budget{2, 3};
  auto t = emporium::line_budget::clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i)
    CHECK(budget.admit(t) == std::uint64_t{0});
  CHECK_FALSE(budget.admit(t).has_value());
  CHECK_FALSE(budget.admit(t + 100ms).has_value());
  CHECK(budget.admit(t + 500ms) == std::uint64_t{2}); // one token back after 0.5 s
  CHECK_FALSE(budget.admit(t + 500ms).has_value());
  // Tokens never pile up past the burst, and a clock going back takes none.
  CHECK(budget.admit(t + 1h) == std::uint64_t{1});
  CHECK(budget.admit(t + 1h) == std::uint64_t{0});
  CHECK(budget.admit(t + 1h) == std::uint64_t{0});
  CHECK_FALSE(budget.admit(t + 1h).has_value());
  CHECK_FALSE(budget.admit(t).has_value());
}
