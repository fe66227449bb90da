// The client side of GET /ws as a pure decoder: one text message in, one
// command out. `{"resume": <last seq>}` (or `{"type":"resume","seq":n}`)
// asks for missed events, `{"type":"ping"}` is answered with a pong, and
// anything else gets an error frame naming the problem. Never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace emporium::http::live_ws {

struct resume {
  std::int64_t after_seq = 0;
};
struct ping {};
struct invalid {
  std::string message;
};

using command = std::variant<resume, ping, invalid>;

command decode(std::string_view text);

/// The frames the server sends, in one place.
std::string hello_frame(std::string_view user);
std::string pong_frame();
std::string error_frame(std::string_view message);
/// Events after the client's seq were deleted by retention: it reloads the
/// orders it shows and goes on from `resume_from` (events after it follow).
std::string reset_frame(std::int64_t resume_from);

} // namespace emporium::http::live_ws
