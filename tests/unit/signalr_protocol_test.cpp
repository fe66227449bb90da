// The SignalR hub protocol and the /ws client messages as pure functions:
// the three frames that used to kill a node, the handshake, invocations,
// records split across frames, and what /ws answers.
#include "http/live/signalr_protocol.hpp"
#include "http/live/ws_protocol.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace emporium::http;

namespace {
constexpr const char* me = "0123456789abcdef0123456789abcdef";
const std::string rs(1, signalr::record_separator);

nlohmann::json record(const std::string& frame) {
  REQUIRE(!frame.empty());
  REQUIRE(frame.back() == signalr::record_separator);
  return nlohmann::json::parse(frame.substr(0, frame.size() - 1));
}

signalr::connection open_connection() {
  signalr::connection conn;
  auto out = signalr::on_message(conn, R"({"protocol":"json","version":1})" + rs, me);
  REQUIRE(out.frames.size() == 1);
  REQUIRE(out.frames[0] == "{}" + rs);
  REQUIRE(conn.handshaken);
  return conn;
}
} // namespace

TEST_CASE("the three frames that killed a node get an error frame and a close") {
  signalr::connection fresh;
  auto handshake = signalr::on_message(fresh, R"({"protocol":1})" + rs, me);
  REQUIRE(handshake.frames.size() == 1);
  CHECK(record(handshake.frames[0]).contains("error"));
  CHECK(handshake.close);

  for (auto text : {R"({"type":"1"})", R"({"type":1,"target":"JoinGroup","arguments":"x"})"}) {
    auto conn = open_connection();
    auto out = signalr::on_message(conn, text + rs, me);
    REQUIRE(out.frames.size() == 1);
    auto close = record(out.frames[0]);
    CHECK(close["type"] == 7);
    CHECK(close["error"].is_string());
    CHECK(out.close);
    CHECK(conn.closed);
    // Nothing more is read once closed.
    CHECK(signalr::on_message(conn, R"({"type":6})" + rs, me).frames.empty());
  }
}

TEST_CASE("handshake: json version 1 only") {
  for (auto text : {R"({"protocol":"messagepack","version":1})", R"({"protocol":"json","version":2})",
                    R"({"protocol":"json","version":"1"})", "[]", "not json"}) {
    signalr::connection conn;
    auto out = signalr::on_message(conn, text + rs, me);
    REQUIRE(out.frames.size() == 1);
    CHECK(record(out.frames[0]).contains("error"));
    CHECK(out.close);
    CHECK_FALSE(conn.handshaken);
  }
  signalr::connection no_version;
  signalr::on_message(no_version, R"({"protocol":"json"})" + rs, me);
  CHECK(no_version.handshaken);
}

TEST_CASE("JoinGroup for one's own user only; completions carry the invocation id") {
  auto conn = open_connection();
  auto other = signalr::on_message(
    conn, R"({"type":1,"invocationId":"a","target":"JoinGroup","arguments":["someone"]})" + rs, me);
  CHECK(other.change == signalr::subscription::unchanged);
  auto refused = record(other.frames.at(0));
  CHECK(refused["invocationId"] == "a");
  CHECK(refused["error"].get<std::string>().find("Forbidden") == 0);

  auto own = signalr::on_message(
    conn, std::string{R"({"type":1,"invocationId":"b","target":"JoinGroup","arguments":[")"} + me +
            R"("]})" + rs,
    me);
  CHECK(own.change == signalr::subscription::join);
  CHECK(record(own.frames.at(0)) == nlohmann::json{{"type", 3}, {"invocationId", "b"}, {"result", nullptr}});
  CHECK(conn.joined);

  auto leave = signalr::on_message(conn, R"({"type":1,"target":"LeaveGroup","arguments":[]})" + rs, me);
  CHECK(leave.change == signalr::subscription::leave);
  CHECK(leave.frames.empty()); // non-blocking: no completion
  CHECK_FALSE(conn.joined);

  auto unknown = signalr::on_message(
    conn, R"({"type":1,"invocationId":"c","target":"Nope","arguments":[]})" + rs, me);
  CHECK(record(unknown.frames.at(0))["error"] == "Unknown hub method 'Nope'");
}

TEST_CASE("a message that joins and leaves again tells the hub its net change only") {
  // Found by fuzz_signalr: the change of the message's last record alone
  // was reported, so "join, leave" from a connection not in its group said
  // "leave" (the hub was told to leave a group it never joined).
  auto conn = open_connection();
  auto join = std::string{R"({"type":1,"target":"JoinGroup","arguments":[")"} + me + R"("]})" + rs;
  auto leave = std::string{R"({"type":1,"target":"LeaveGroup","arguments":[]})"} + rs;
  auto both = signalr::on_message(conn, join + leave, me);
  CHECK(both.change == signalr::subscription::unchanged);
  CHECK_FALSE(conn.joined);
  CHECK(signalr::on_message(conn, join, me).change == signalr::subscription::join);
  auto again = signalr::on_message(conn, leave + join, me); // already in: stays in
  CHECK(again.change == signalr::subscription::unchanged);
  CHECK(conn.joined);
  auto out = signalr::on_message(conn, join + leave + join + leave, me);
  CHECK(out.change == signalr::subscription::leave);
  CHECK_FALSE(conn.joined);
}

TEST_CASE("records split across frames are reassembled; several records in one frame") {
  signalr::connection conn;
  auto first = signalr::on_message(conn, R"({"protocol":"js)", me);
  CHECK(first.frames.empty());
  auto rest = signalr::on_message(conn, R"(on","version":1})" + rs + R"({"type":6})" + rs +
                                          R"({"type":1,"invocationId":"x","target":"Nope","arguments":[]})" + rs,
                                  me);
  REQUIRE(rest.frames.size() == 2);
  CHECK(rest.frames[0] == "{}" + rs);
  CHECK(record(rest.frames[1])["invocationId"] == "x");
  // A record growing past the limit without a separator ends the connection.
  auto huge = signalr::on_message(conn, std::string(signalr::max_record_bytes + 1, ' '), me);
  CHECK(huge.close);
  CHECK(conn.partial.empty());
}

TEST_CASE("/ws client messages: resume, ping, and an error for anything else") {
  CHECK(std::get<live_ws::resume>(live_ws::decode(R"({"resume":42})")).after_seq == 42);
  CHECK(std::get<live_ws::resume>(live_ws::decode(R"({"type":"resume","seq":7})")).after_seq == 7);
  CHECK(std::holds_alternative<live_ws::ping>(live_ws::decode(R"({"type":"ping"})")));
  for (auto bad : {R"({"resume":-1})", R"({"resume":"1"})", R"({"resume":1.5})", R"({"type":1})",
                   R"({"type":"dance"})", "[]", "{", R"({"type":"resume"})", ""}) {
    INFO(bad);
    auto cmd = live_ws::decode(bad);
    REQUIRE(std::holds_alternative<live_ws::invalid>(cmd));
    CHECK_FALSE(std::get<live_ws::invalid>(cmd).message.empty());
  }
  CHECK(nlohmann::json::parse(live_ws::error_frame("bad \xff byte"))["type"] == "error");
}
