// The SignalR JSON hub protocol (what @microsoft/signalr speaks over a
// WebSocket) as a pure function: (connection state, received text) ->
// (frames to send, subscription change, close). No sockets, no actors, no
// exceptions: every byte a client sends ends in a frame, a close, or nothing,
// and tests and the fuzzer drive it directly.
//
//   awaiting handshake --{"protocol":"json","version":1}--> open
//          |  anything else: {"error":..} and close           |
//          v                                                   |
//       closed <--- type 7, malformed record: {"type":7,"error"} --'
//
// Records end with 0x1e; a record split across frames is reassembled (up to
// max_record_bytes), text after the last separator waits for the next frame.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::http::signalr {

constexpr char record_separator = '\x1e';
constexpr std::size_t max_record_bytes = 64 * 1024;

struct connection {
  bool handshaken = false;
  bool joined = false; ///< subscribed to its own user's order events
  bool closed = false; ///< nothing more is read or sent
  std::string partial; ///< an unterminated record from earlier frames
};

enum class subscription { unchanged, join, leave };

struct reaction {
  std::vector<std::string> frames; ///< each a JSON record with its separator
  subscription change = subscription::unchanged; ///< over the whole message
  bool close = false; ///< close the WebSocket after sending `frames`
};

/// Handles one WebSocket message from the client of `user`.
reaction on_message(connection& conn, std::string_view text, std::string_view user);

/// The server's keepalive ping record.
std::string ping_frame();

} // namespace emporium::http::signalr
