// W3C traceparent parsing and formatting, trace scopes in log lines, the
// span queue, and the OTLP/HTTP JSON encoding and endpoint.
#include "support/log.hpp"
#include "support/otlp.hpp"
#include "support/trace.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace emporium;

namespace {
constexpr const char* example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
}

TEST_CASE("a valid traceparent parses and formats back to the same text") {
  auto ctx = trace::parse_traceparent(example);
  REQUIRE(ctx.has_value());
  CHECK(ctx->trace_hi == 0x4bf92f3577b34da6ULL);
  CHECK(ctx->trace_lo == 0xa3ce929d0e0e4736ULL);
  CHECK(ctx->span == 0x00f067aa0ba902b7ULL);
  CHECK(ctx->flags == 1);
  CHECK(trace::traceparent(*ctx) == example);
  CHECK(trace::trace_id_hex(*ctx) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(trace::span_id_hex(ctx->span) == "00f067aa0ba902b7");
}

TEST_CASE("bad traceparent values are refused, never thrown") {
  for (const char* bad : {
         "",
         "00",
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",   // short
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // 00 with more
         "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
         "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace
         "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span
         "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
         "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
         "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, "
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // repeated header
       })
    CHECK_MESSAGE(!trace::parse_traceparent(bad).has_value(), bad);
  // A later version may append fields; its first four parts are kept.
  auto future = trace::parse_traceparent(
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra");
  REQUIRE(future.has_value());
  CHECK(future->span == 0x00f067aa0ba902b7ULL);
}

TEST_CASE("a child keeps the trace and gets a new span; follow leaves untraced work alone") {
  auto root = trace::start_trace();
  CHECK(root.valid());
  CHECK(root.flags == 1);
  auto child = trace::child_of(root);
  CHECK(child.trace_hi == root.trace_hi);
  CHECK(child.trace_lo == root.trace_lo);
  CHECK(child.span != root.span);
  CHECK_FALSE(trace::follow(trace::context{}).valid());
  CHECK(trace::follow(root).trace_lo == root.trace_lo);
  CHECK(trace::start_trace().trace_lo != root.trace_lo);
}

TEST_CASE("a scope makes a context current and restores the previous one") {
  CHECK_FALSE(trace::current().valid());
  auto outer = trace::start_trace();
  {
    trace::scope a{outer};
    CHECK(trace::current() == outer);
    auto inner = trace::child_of(outer);
    {
      trace::scope b{inner};
      CHECK(trace::current() == inner);
    }
    CHECK(trace::current() == outer);
  }
  CHECK_FALSE(trace::current().valid());
}

TEST_CASE("log lines carry the trace ids after the event's fields") {
  log::settings json{true, log::level::info, "n1"};
  auto line = log::format_line(json, log::level::info, "order_placed", {{"order", "7"}}, 0,
                               {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"});
  auto j = nlohmann::json::parse(line);
  CHECK(j["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(j["span_id"] == "00f067aa0ba902b7");
  CHECK(j["order"] == "7");
  log::settings text{false, log::level::info, "n1"};
  CHECK(log::format_line(text, log::level::info, "x", {}, 0, {"ab", "cd"}) ==
        "1970-01-01T00:00:00.000Z INFO n1 x trace_id=ab span_id=cd");
  CHECK(nlohmann::json::parse(log::format_line(json, log::level::info, "x", {}, 0))
          .count("trace_id") == 0);
}

TEST_CASE("the span queue takes spans only while open, drops beyond its bound") {
  auto ctx = trace::start_trace();
  trace::record(ctx, 0, "before", trace::span_kind::server, trace::now_ns());
  trace::open_queue(2);
  CHECK(trace::recording());
  for (int i = 0; i < 3; ++i)
    trace::record(trace::child_of(ctx), ctx.span, "s" + std::to_string(i),
                  trace::span_kind::internal, trace::now_ns(), {{"k", "v"}});
  trace::record(trace::context{}, 0, "untraced", trace::span_kind::internal, trace::now_ns());
  std::vector<trace::span> out;
  CHECK(trace::drain(out, 10, std::chrono::milliseconds(0)));
  REQUIRE(out.size() == 2); // "before" was not taken, "s2" was dropped, "untraced" ignored
  CHECK(out[0].name == "s0");
  CHECK(out[1].name == "s1");
  CHECK(out[0].parent == ctx.span);
  CHECK(out[0].end_ns >= out[0].start_ns);
  trace::close_queue();
  CHECK_FALSE(trace::recording());
  out.clear();
  CHECK_FALSE(trace::drain(out, 10, std::chrono::milliseconds(0)));
}

TEST_CASE("OTLP JSON: resourceSpans, hex ids, parent, times as strings, error status") {
  auto ctx = *trace::parse_traceparent(example);
  trace::span root{ctx, 0, "POST /api/orders", trace::span_kind::server, 1000, 2500,
                   {{"http.route", "/api/orders"}}, false};
  trace::span child{trace::child_of(ctx), ctx.span, "order.cancelled",
                    trace::span_kind::internal, 1100, 1200, {}, true};
  auto body = otlp::encode({root, child}, {{"service.name", "emporium"}, {"host.name", "h"}});
  auto j = nlohmann::json::parse(body);
  auto& rs = j["resourceSpans"][0];
  CHECK(rs["resource"]["attributes"][0]["key"] == "service.name");
  CHECK(rs["resource"]["attributes"][0]["value"]["stringValue"] == "emporium");
  auto& spans = rs["scopeSpans"][0]["spans"];
  REQUIRE(spans.size() == 2);
  CHECK(spans[0]["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(spans[0]["spanId"] == "00f067aa0ba902b7");
  CHECK(spans[0].count("parentSpanId") == 0);
  CHECK(spans[0]["kind"] == 2);
  CHECK(spans[0]["startTimeUnixNano"] == "1000");
  CHECK(spans[0]["endTimeUnixNano"] == "2500");
  CHECK(spans[0]["attributes"][0]["value"]["stringValue"] == "/api/orders");
  CHECK(spans[0]["status"]["code"] == 0);
  CHECK(spans[1]["parentSpanId"] == "00f067aa0ba902b7");
  CHECK(spans[1]["status"]["code"] == 2);
}

TEST_CASE("OTLP endpoints: http URLs with an optional port and prefix") {
  std::string why;
  auto plain = otlp::parse_endpoint("http://127.0.0.1:4318", why);
  REQUIRE(plain.has_value());
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == "4318");
  CHECK(plain->path == "/v1/traces");
  auto prefixed = otlp::parse_endpoint("http://collector/otlp/", why);
  REQUIRE(prefixed.has_value());
  CHECK(prefixed->port == "4318");
  CHECK(prefixed->path == "/otlp/v1/traces");
  auto v6 = otlp::parse_endpoint("http://[::1]:9000", why);
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->port == "9000");
  for (const char* bad : {"https://x:4318", "127.0.0.1:4318", "http://:4318", "http://x:0",
                          "http://x:70000", "http://x:12ab", "http://x/a b", "http://x/?q"}) {
    why.clear();
    CHECK_MESSAGE(!otlp::parse_endpoint(bad, why).has_value(), bad);
    CHECK(!why.empty());
  }
}

TEST_CASE("OTLP JSON escapes hostile names and values and stays valid JSON") {
  auto ctx = trace::start_trace();
  trace::span s{ctx, 0, "a \"quoted\"\nname\\", trace::span_kind::internal, 1, 2,
                {{"reason", std::string{"bad\xff\xfe bytes\x01"}}}, false};
  auto j = nlohmann::json::parse(otlp::encode({s}, {{"service.name", "emporium"}}));
  auto& span = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  CHECK(span["name"] == "a \"quoted\"\nname\\");
  CHECK(span["attributes"][0]["value"]["stringValue"] == "bad?? bytes\x01");
  CHECK(nlohmann::json::parse(otlp::encode({}, {}))["resourceSpans"][0]["scopeSpans"][0]["spans"]
          .empty());
}
