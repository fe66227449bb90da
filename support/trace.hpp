// Traces after W3C Trace Context: a trace id (16 bytes) shared by all the
// work one request causes, a span id (8 bytes) per piece of it, and the
// parent each span names. The context travels in HTTP headers
// (`traceparent`) and, as a field, in the actor messages of the order path;
// finished spans go into a bounded queue that an exporter drains
// (http/otlp_exporter.hpp). Recording never blocks: with no exporter, or a
// full queue, a span is dropped (and counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium::trace {

struct context {
  std::uint64_t trace_hi = 0, trace_lo = 0; // the 128-bit trace id
  std::uint64_t span = 0;                   // the span this context stands in
  std::uint8_t flags = 0;                   // bit 0: sampled

  bool valid() const noexcept { return (trace_hi | trace_lo) != 0 && span != 0; }
  friend bool operator==(const context&, const context&) = default;
};

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`; nullopt for
/// anything else, an all-zero id, or version ff. Lower-case hex only, as
/// the specification asks. Never throws.
std::optional<context> parse_traceparent(std::string_view header) noexcept;

/// The header value for `ctx` (version 00).
std::string traceparent(const context& ctx);

std::string trace_id_hex(const context& ctx);
std::string span_id_hex(std::uint64_t span);

/// A new trace (a request without a usable traceparent), sampled.
context start_trace();

/// A new span in the trace of `parent` (a new trace when `parent` is invalid).
context child_of(const context& parent);

/// A child span of `parent` when it is traced; an invalid context (the work
/// is not traced) otherwise.
inline context follow(const context& parent) {
  return parent.valid() ? child_of(parent) : context{};
}

/// The context of what this thread does right now (a request on an I/O
/// thread, a saga step on a worker): log lines carry its ids.
const context& current() noexcept;

/// Makes `ctx` current for the scope's lifetime.
class scope {
public:
  explicit scope(const context& ctx) noexcept;
  ~scope();
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

private:
  context previous_;
};

enum class span_kind : std::uint8_t { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

struct span {
  context ctx;               // its own trace and span id
  std::uint64_t parent = 0;  // 0: a root span
  std::string name;
  span_kind kind = span_kind::internal;
  std::int64_t start_ns = 0, end_ns = 0; // Unix time, nanoseconds
  std::vector<std::pair<std::string, std::string>> attributes;
  bool error = false;
};

/// Unix time in nanoseconds.
std::int64_t now_ns() noexcept;

/// True while an exporter takes spans: callers skip building spans otherwise.
bool recording() noexcept;

/// A span from `start_ns` to now, child of `parent`, with its own id `self`.
/// Hands it to the exporter's queue; drops it (counted) when none takes
/// spans or the queue is full. Never throws, never blocks on I/O.
void record(const context& self, std::uint64_t parent, std::string name, span_kind kind,
            std::int64_t start_ns,
            std::vector<std::pair<std::string, std::string>> attributes = {},
            bool error = false) noexcept;

/// For the exporter: starts taking spans (queue of at most `max_queued`).
void open_queue(std::size_t max_queued);
/// Stops taking spans (what is queued can still be drained).
void close_queue() noexcept;
/// Moves up to `max` queued spans into `out`, waiting up to `wait` for the
/// first one. Returns false once the queue is closed and empty.
bool drain(std::vector<span>& out, std::size_t max, std::chrono::milliseconds wait);

} // namespace emporium::trace
