// /ws client messages (see ws_protocol.hpp).
#include "http/live/ws_protocol.hpp"

#include "support/json_field.hpp"

namespace emporium::http::live_ws {

namespace {

using nlohmann::json;

command decode_resume(const json& seq) {
  auto value = json_read::as<std::int64_t>(seq);
  if (!value || *value < 0)
    return invalid{"'resume' must be a non-negative integer (the last seq received)"};
  return resume{*value};
}

} // namespace

command decode(std::string_view text) {
  auto j = json_read::parse(text);
  if (!j || !j->is_object())
    return invalid{"expected a JSON object: {\"resume\": <last seq>} or {\"type\":\"ping\"}"};
  if (auto seq = json_read::member(*j, "resume"))
    return decode_resume(*seq);
  auto type_field = json_read::member(*j, "type");
  if (type_field == nullptr)
    return invalid{"expected {\"resume\": <last seq>} or {\"type\":\"ping\"}"};
  auto type = json_read::as<std::string>(*type_field);
  if (!type)
    return invalid{"'type' must be a string"};
  if (*type == "ping")
    return ping{};
  if (*type == "resume") {
    auto seq = json_read::member(*j, "seq");
    if (seq == nullptr)
      return invalid{"'seq' is required with type 'resume'"};
    return decode_resume(*seq);
  }
  return invalid{"unknown message type '" + type->substr(0, 64) + "'"};
}

std::string hello_frame(std::string_view user) {
  return json_read::dump({{"type", "hello"}, {"userId", user}});
}

std::string pong_frame() {
  return R"({"type":"pong"})";
}

std::string reset_frame(std::int64_t resume_from) {
  return json_read::dump({{"type", "reset"}, {"seq", resume_from}});
}

std::string error_frame(std::string_view message) {
  return json_read::dump({{"type", "error"}, {"message", message}});
}

} // namespace emporium::http::live_ws
