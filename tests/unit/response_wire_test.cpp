// A response's bytes (http/response_wire.hpp), read back by Beast's parser
// as a client would.
#include "http/response_wire.hpp"
#include "http/security_headers.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace emporium::http;
namespace bhttp = boost::beast::http;

namespace {

/// Parses `wire` as one whole response; `head`: the answer to a HEAD.
bhttp::response<bhttp::string_body> parse(const std::string& wire, bool head = false) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(head);
  parser.eager(true);
  boost::beast::error_code ec;
  auto used = parser.put(boost::asio::buffer(wire), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  REQUIRE(parser.is_done());
  CHECK(used == wire.size()); // nothing left over: the next answer starts clean
  return parser.release();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace

TEST_CASE("an answer on a kept connection: status, headers, CORS, length and body") {
  response res;
  res.body = R"([{"id":1}])";
  res.headers.emplace_back("X-Total-Count", "1");
  res.headers.emplace_back("Set-Cookie", "a=1");
  res.headers.emplace_back("Set-Cookie", "b=2"); // repeated headers stay repeated
  auto wire = wire_response(res, {11, true, false}, {{"Vary", "Origin"}});
  CHECK(wire.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  auto msg = parse(wire);
  CHECK(msg.result_int() == 200);
  CHECK(msg.version() == 11);
  CHECK(msg.keep_alive());
  CHECK(msg[bhttp::field::server] == "emporium");
  CHECK(msg[bhttp::field::content_type] == "application/json");
  CHECK(msg["X-Total-Count"] == "1");
  CHECK(msg["Vary"] == "Origin");
  CHECK(std::distance(msg.equal_range("Set-Cookie").first, msg.equal_range("Set-Cookie").second) ==
        2);
  CHECK(msg[bhttp::field::content_length] == std::to_string(res.body.size()));
  CHECK(msg.body() == res.body);
}

TEST_CASE("closing and HTTP/1.0 answers say so") {
  response res;
  res.status = 404;
  res.body = "{}";
  auto closing = parse(wire_response(res, {11, false, false}));
  CHECK(closing.result_int() == 404);
  CHECK(closing.reason() == "Not Found");
  CHECK_FALSE(closing.keep_alive());
  CHECK(closing[bhttp::field::connection] == "close");
  auto old_kept = parse(wire_response(res, {10, true, false}));
  CHECK(old_kept.version() == 10);
  CHECK(old_kept.keep_alive());
  auto old_closed = parse(wire_response(res, {10, false, false}));
  CHECK_FALSE(old_closed.keep_alive());
  CHECK(old_closed.find(bhttp::field::connection) == old_closed.end());
  res.status = 429;
  CHECK(parse(wire_response(res, {11, true, false})).reason() == "Too Many Requests");
}

TEST_CASE("a HEAD answer has the GET answer's length and no body") {
  response res;
  res.body = std::string(1000, 'x');
  auto wire = wire_response(res, {11, true, true});
  CHECK(ends_with(wire, "Content-Length: 1000\r\n\r\n"));
  auto msg = parse(wire, true);
  CHECK(msg[bhttp::field::content_length] == "1000");
  CHECK(msg.body().empty());
}

TEST_CASE("204 and 304 carry neither a length nor a body") {
  for (unsigned status : {204u, 304u}) {
    response res;
    res.status = status;
    res.content_type.clear();
    res.body = "ignored";
    auto wire = wire_response(res, {11, true, false});
    CHECK(ends_with(wire, "\r\n\r\n"));
    CHECK(wire.find("Content-Length") == std::string::npos);
    CHECK(wire.find("ignored") == std::string::npos);
    CHECK(wire.find("\r\nContent-Type:") == std::string::npos);
    auto msg = parse(wire);
    CHECK(msg.result_int() == status);
    CHECK(msg.body().empty());
  }
}

TEST_CASE("a header that could split the answer is left out") {
  response res;
  res.body = "ok";
  res.headers.emplace_back("X-Split", "a\r\nX-Injected: 1");
  res.headers.emplace_back("X-Lf", "a\nb");
  res.headers.emplace_back(std::string{"X-Nul"}, std::string{"a\0b", 3});
  res.headers.emplace_back("Bad Name", "v");
  res.headers.emplace_back("Bad:Name", "v");
  res.headers.emplace_back("", "v");
  res.headers.emplace_back("X-Fine", "v");
  res.content_type = "text/plain\r\nX-Injected: 2";
  auto wire = wire_response(res, {11, true, false}, {{"X-Cors", "x\r\n\r\n<html>"}});
  for (const char* gone : {"X-Split", "X-Injected", "X-Lf", "X-Nul", "Bad", "X-Cors", "<html>",
                           "\r\nContent-Type:"})
    CHECK_MESSAGE(wire.find(gone) == std::string::npos, gone);
  auto msg = parse(wire);
  CHECK(msg["X-Fine"] == "v");
  CHECK(msg.body() == "ok");
}

namespace {

std::size_t count_of(const bhttp::response<bhttp::string_body>& msg, const char* name) {
  auto [first, last] = msg.equal_range(name);
  return static_cast<std::size_t>(std::distance(first, last));
}

void check_always_there(const bhttp::response<bhttp::string_body>& msg) {
  CHECK(msg["X-Content-Type-Options"] == "nosniff");
  CHECK(msg["X-Frame-Options"] == "DENY");
  CHECK(msg["Referrer-Policy"] == "no-referrer");
  CHECK(count_of(msg, "Content-Security-Policy") == 1);
  CHECK(count_of(msg, "Cache-Control") == 1);
}

} // namespace

TEST_CASE("an answer that chose no cache policy is not stored, and as a document loads nothing") {
  for (unsigned status : {200u, 400u, 404u, 429u, 503u}) {
    response res;
    res.status = status;
    res.body = R"({"token":"secret"})";
    auto msg = parse(wire_response(res, {11, true, false}, {{"Vary", "Origin"}}));
    check_always_there(msg);
    CHECK(msg["Cache-Control"] == "no-store");
    CHECK(msg["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'");
    CHECK(msg["Vary"] == "Origin");
  }
}

TEST_CASE("a handler's own cache policy is kept, and only it") {
  response res;
  res.content_type = "text/javascript; charset=utf-8";
  res.body = "console.log(1)";
  res.headers.emplace_back("cache-control", "public, max-age=3600"); // any spelling
  auto msg = parse(wire_response(res, {11, true, false}));
  check_always_there(msg);
  CHECK(msg["Cache-Control"] == "public, max-age=3600");
  CHECK(msg["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'");
}

TEST_CASE("the storefront's page runs only its own files and is framed by nobody") {
  for (const char* type : {"text/html; charset=utf-8", "TEXT/HTML"}) {
    response res;
    res.content_type = type;
    res.body = "<!doctype html><title>shop</title>";
    res.headers.emplace_back("Cache-Control", "no-cache");
    auto msg = parse(wire_response(res, {11, true, false}));
    check_always_there(msg);
    CHECK(msg["Cache-Control"] == "no-cache");
    std::string policy{msg["Content-Security-Policy"]};
    for (const char* part : {"default-src 'self'", "script-src 'self'", "style-src 'self'",
                             "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
                             "frame-ancestors 'none'", "report-uri /api/csp-reports"})
      CHECK_MESSAGE(policy.find(part) != std::string::npos, part);
    CHECK(policy.find("unsafe") == std::string::npos); // no inline script or eval
  }
  response other; // a type that merely contains "html" is not a page
  other.content_type = "application/xhtml-fragment";
  auto msg = parse(wire_response(other, {11, true, false}));
  CHECK(msg["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'");
}

TEST_CASE("a page whose handler chose its policy (the Stripe card form) keeps it, and only it") {
  response res;
  res.content_type = "text/html; charset=utf-8";
  res.body = "<!doctype html><title>shop</title>";
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("content-security-policy", std::string{stripe_page_security_policy});
  auto msg = parse(wire_response(res, {11, true, false}));
  check_always_there(msg);
  CHECK(std::string{msg["Content-Security-Policy"]} == std::string{stripe_page_security_policy});
  std::string policy{stripe_page_security_policy};
  for (const char* part :
       {"script-src 'self' https://js.stripe.com https://*.js.stripe.com;",
        "connect-src 'self' https://api.stripe.com;",
        "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;",
        "object-src 'none'", "frame-ancestors 'none'", "report-uri /api/csp-reports"})
    CHECK_MESSAGE(policy.find(part) != std::string::npos, part);
  CHECK(policy.find("unsafe") == std::string::npos);
  // Stripe's hosts by name; the one wildcard stays under js.stripe.com.
  std::size_t wildcards = 0;
  for (auto at = policy.find('*'); at != std::string::npos; at = policy.find('*', at + 1)) {
    auto host = policy.substr(at, 16);
    CHECK((host == "*.js.stripe.com " || host == "*.js.stripe.com;"));
    ++wildcards;
  }
  CHECK(wildcards == 2);
}
