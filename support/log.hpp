// Structured logs: one object per line on stdout, JSON (default) or text,
// with `ts` (RFC 3339, milliseconds, UTC), `level`, `node`, `msg` and the
// event's fields. Lines are formatted by the caller and handed to a writer
// thread through a bounded queue: logging never waits for the terminal or
// the disk, and when the queue is full the line is dropped and counted
// (never blocks an actor). Secrets never go into a field: callers log ids,
// never passwords, tokens, keys or card ids.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace emporium::log {

enum class level : std::uint8_t { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

std::optional<level> parse_level(std::string_view text);
std::string_view level_name(level l);

struct settings {
  bool json = true;
  level min = level::info;
  std::string node = "local";
};

/// Applies the settings (call once at start-up, before the first line).
void configure(settings s);

/// True when lines of level `l` are written (check before costly fields).
bool enabled(level l) noexcept;

using field = std::pair<std::string_view, std::string>;

/// Writes one line; never throws, never blocks on I/O. Inside a request or
/// a saga step (trace::current() valid) the line carries its trace ids.
void write(level l, std::string_view msg, std::initializer_list<field> fields = {}) noexcept;

/// The same with the level by name ("debug", "info", "warn", "error").
void write(std::string_view level_text, std::string_view msg,
           std::initializer_list<field> fields = {}) noexcept;

inline void debug(std::string_view msg, std::initializer_list<field> fields = {}) noexcept {
  write(level::debug, msg, fields);
}
inline void info(std::string_view msg, std::initializer_list<field> fields = {}) noexcept {
  write(level::info, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<field> fields = {}) noexcept {
  write(level::warn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<field> fields = {}) noexcept {
  write(level::error, msg, fields);
}

/// Lines dropped because the queue was full.
std::uint64_t dropped() noexcept;

/// Writes what is queued and stops the writer (at exit; later lines are
/// written directly).
void flush() noexcept;

/// The ids of the trace a line belongs to (hex), or empty.
struct trace_ids {
  std::string trace_id, span_id;
};

/// One line as it would be written (for tests): no trailing newline.
/// `trace_id` and `span_id` follow the event's fields when set.
std::string format_line(const settings& s, level l, std::string_view msg,
                        std::initializer_list<field> fields, std::int64_t unix_ms,
                        const trace_ids& trace = {});

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
