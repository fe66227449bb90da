// One JSON line per event on stderr: what the edge and the actors report
// when something unexpected happens (a handler threw, an entity crashed).
// Kept tiny on purpose; structured logging with trace ids comes with the
// operability work (issue 13) and replaces the sink, not the call sites.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace emporium::log {

using field = std::pair<std::string_view, std::string>;

/// Writes {"level":..,"event":..,<fields>} as one line; never throws.
void write(std::string_view level, std::string_view event,
           std::initializer_list<field> fields = {}) noexcept;

inline void error(std::string_view event, std::initializer_list<field> fields = {}) noexcept {
  write("error", event, fields);
}

inline void warn(std::string_view event, std::initializer_list<field> fields = {}) noexcept {
  write("warn", event, fields);
}

/// The message of the exception being handled (call inside a catch block).
std::string current_exception_text() noexcept;

/// Runs `fn`; an exception is logged as `event` and swallowed. For code run
/// on a thread where an escaping exception would end the process (a worker
/// pool, a long-lived bridge actor).
template <class Fn>
void shielded(std::string_view event, Fn&& fn) noexcept {
  try {
    fn();
  } catch (...) {
    error(event, {{"error", current_exception_text()}});
  }
}

} // namespace emporium::log
