// Trace contexts and the span queue (see trace.hpp).
#include "support/trace.hpp"

#include "support/metrics.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>

namespace emporium::trace {

namespace {

thread_local context current_context;

/// Ids need not be secret, only unique: one generator per thread, seeded
/// from the system's entropy.
std::uint64_t random_id() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  std::uint64_t id = 0;
  while (id == 0)
    id = rng();
  return id;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// `digits` lower-case hex characters of `text` from `at` into `out`.
bool read_hex(std::string_view text, std::size_t at, std::size_t digits,
              std::uint64_t& out) noexcept {
  out = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    int d = hex_digit(text[at + i]);
    if (d < 0)
      return false;
    out = (out << 4) | static_cast<std::uint64_t>(d);
  }
  return true;
}

void append_hex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i)
    out += hex[(v >> (4 * i)) & 0xf];
}

struct span_queue {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<span> spans;
  std::size_t max = 0;
  bool open = false;
};

span_queue& queue() {
  static span_queue q;
  return q;
}

std::atomic<bool> taking{false};

metrics::counter& dropped_spans() {
  static auto& c = metrics::default_registry().counter_of(
    "emporium_trace_spans_dropped_total",
    "Spans dropped because the export queue was full (the collector slow or down)");
  return c;
}

} // namespace

std::optional<context> parse_traceparent(std::string_view h) noexcept {
  // version(2) - trace id(32) - span id(16) - flags(2); a later version may
  // append fields after another '-', which we ignore as the spec says.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  if (h.size() > 55 && h[55] != '-')
    return std::nullopt;
  std::uint64_t version = 0, flags = 0;
  context c;
  if (!read_hex(h, 0, 2, version) || version == 0xff || (version == 0 && h.size() != 55))
    return std::nullopt;
  if (!read_hex(h, 3, 16, c.trace_hi) || !read_hex(h, 19, 16, c.trace_lo) ||
      !read_hex(h, 36, 16, c.span) || !read_hex(h, 53, 2, flags))
    return std::nullopt;
  c.flags = static_cast<std::uint8_t>(flags);
  if (!c.valid())
    return std::nullopt;
  return c;
}

std::string traceparent(const context& ctx) {
  std::string out = "00-";
  out.reserve(55);
  append_hex(out, ctx.trace_hi, 16);
  append_hex(out, ctx.trace_lo, 16);
  out += '-';
  append_hex(out, ctx.span, 16);
  out += '-';
  append_hex(out, ctx.flags, 2);
  return out;
}

std::string trace_id_hex(const context& ctx) {
  std::string out;
  out.reserve(32);
  append_hex(out, ctx.trace_hi, 16);
  append_hex(out, ctx.trace_lo, 16);
  return out;
}

std::string span_id_hex(std::uint64_t span) {
  std::string out;
  out.reserve(16);
  append_hex(out, span, 16);
  return out;
}

context start_trace() {
  return {random_id(), random_id(), random_id(), 1};
}

context child_of(const context& parent) {
  if (!parent.valid())
    return start_trace();
  return {parent.trace_hi, parent.trace_lo, random_id(), parent.flags};
}

const context& current() noexcept {
  return current_context;
}

scope::scope(const context& ctx) noexcept : previous_(current_context) {
  current_context = ctx;
}

scope::~scope() {
  current_context = previous_;
}

std::int64_t now_ns() noexcept {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

bool recording() noexcept {
  return taking.load(std::memory_order_relaxed);
}

void record(const context& self, std::uint64_t parent, std::string name, span_kind kind,
            std::int64_t start_ns, std::vector<std::pair<std::string, std::string>> attributes,
            bool error) noexcept {
  if (!recording() || !self.valid())
    return;
  try {
    span s{self, parent, std::move(name), kind, start_ns, now_ns(), std::move(attributes), error};
    auto& q = queue();
    {
      std::lock_guard guard{q.mutex};
      if (!q.open)
        return;
      if (q.spans.size() >= q.max) {
        dropped_spans().inc();
        return;
      }
      q.spans.push_back(std::move(s));
    }
    q.wake.notify_one();
  } catch (...) {
    dropped_spans().inc();
  }
}

void open_queue(std::size_t max_queued) {
  auto& q = queue();
  std::lock_guard guard{q.mutex};
  q.max = max_queued;
  q.open = true;
  taking.store(true);
}

void close_queue() noexcept {
  auto& q = queue();
  {
    std::lock_guard guard{q.mutex};
    q.open = false;
    taking.store(false);
  }
  q.wake.notify_all();
}

bool drain(std::vector<span>& out, std::size_t max, std::chrono::milliseconds wait) {
  auto& q = queue();
  std::unique_lock lock{q.mutex};
  q.wake.wait_for(lock, wait, [&] { return !q.spans.empty() || !q.open; });
  while (!q.spans.empty() && out.size() < max) {
    out.push_back(std::move(q.spans.front()));
    q.spans.pop_front();
  }
  return q.open || !q.spans.empty();
}

} // namespace emporium::trace
