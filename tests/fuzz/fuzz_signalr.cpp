// SignalR hub protocol: the input is a sequence of WebSocket messages
// separated by 0xFF (never a byte of UTF-8 text). Each goes through frame
// splitting on 0x1E, the handshake and hub message handling; what the hub
// would send is recorded and checked.
#include "tests/fuzz/fuzz_check.hpp"
#include "http/live/signalr_protocol.hpp"
#include "support/json_field.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace emporium::http;

namespace {
constexpr std::string_view user = "0123456789abcdef0123456789abcdef";

using emporium::fuzz::check;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  signalr::connection conn;
  bool joined = false;
  while (!input.empty() || size == 0) {
    auto cut = input.find('\xff');
    auto message = input.substr(0, cut);
    input.remove_prefix(cut == std::string_view::npos ? input.size() : cut + 1);
    bool was_closed = conn.closed;
    bool was_handshaken = conn.handshaken;
    auto out = signalr::on_message(conn, message, user);
    // Once closed, nothing more is said or done.
    if (was_closed)
      check(out.frames.empty() && out.change == signalr::subscription::unchanged);
    // Every frame is one JSON object record; the first answer of a
    // connection is the handshake response (an empty object or an error).
    for (const auto& frame : out.frames) {
      check(!frame.empty() && frame.back() == signalr::record_separator);
      check(frame.find(signalr::record_separator) == frame.size() - 1);
      auto j = emporium::json_read::parse(std::string_view{frame}.substr(0, frame.size() - 1));
      check(j && j->is_object());
    }
    // Subscribing needs a completed handshake; leaving needs a subscription.
    if (out.change == signalr::subscription::join) {
      check(conn.handshaken && !joined);
      joined = true;
    } else if (out.change == signalr::subscription::leave) {
      check(joined);
      joined = false;
    }
    check(joined == conn.joined);
    check(!was_handshaken || conn.handshaken);
    check(!out.close || conn.closed);
    check(conn.partial.size() <= signalr::max_record_bytes);
    if (size == 0)
      break;
  }
  return 0;
}
