// /ws client messages: resume, pings, unknown types, anything. Every input
// decodes to exactly one command; every frame the server would send back
// is a JSON object.
#include "http/live/ws_protocol.hpp"
#include "support/json_field.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace emporium::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto cmd = live_ws::decode(text);
  std::string reply;
  if (auto* r = std::get_if<live_ws::resume>(&cmd)) {
    if (r->after_seq < 0)
      std::abort();
    return 0;
  }
  if (std::holds_alternative<live_ws::ping>(cmd))
    reply = live_ws::pong_frame();
  else {
    auto& bad = std::get<live_ws::invalid>(cmd);
    if (bad.message.empty())
      std::abort();
    reply = live_ws::error_frame(bad.message);
  }
  auto j = emporium::json_read::parse(reply);
  if (!j || !j->is_object())
    std::abort();
  // A greeting for a user id made of the input must be JSON too.
  auto hello = emporium::json_read::parse(live_ws::hello_frame(text));
  if (!hello || !hello->is_object())
    std::abort();
  return 0;
}
