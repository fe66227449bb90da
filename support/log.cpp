// Structured logging (see log.hpp).
#include "support/log.hpp"

#include "support/thread_name.hpp"

#include "support/json_field.hpp"
#include "support/trace.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace emporium::log {

namespace {

constexpr std::size_t max_queued = 10'000;

/// The writer thread and its queue; made on first use, stopped by flush().
class sink {
public:
  static sink& get() {
    static sink the_sink;
    return the_sink;
  }

  void push(std::string line) {
    {
      std::lock_guard guard{mutex_};
      if (stopped_) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
        return;
      }
      if (queue_.size() >= max_queued) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(line));
    }
    wake_.notify_one();
  }

  void stop() {
    {
      std::lock_guard guard{mutex_};
      if (stopped_)
        return;
      stopped_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable())
      writer_.join();
  }

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  ~sink() { stop(); }

private:
  sink() : writer_([this] { run(); }) {}

  void run() {
    name_this_thread("log writer");
    std::unique_lock lock{mutex_};
    for (;;) {
      wake_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
      auto batch = std::move(queue_);
      queue_.clear();
      bool last = stopped_;
      lock.unlock();
      for (const auto& line : batch)
        std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
      lock.lock();
      if (last && queue_.empty())
        return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopped_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread writer_;
};

settings& current() {
  static settings s;
  return s;
}

std::atomic<int> min_level{static_cast<int>(level::info)};

std::string rfc3339_ms(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[80]; // room for any int the format could print (g++ checks it)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

/// A text-format value: bare when it has no space, quote or control byte.
std::string text_value(const std::string& v) {
  bool bare = !v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f)
      bare = false;
  if (bare)
    return v;
  return json_read::dump(nlohmann::json(v)); // quoted and escaped
}

} // namespace

std::optional<level> parse_level(std::string_view text) {
  if (text == "debug")
    return level::debug;
  if (text == "info")
    return level::info;
  if (text == "warn")
    return level::warn;
  if (text == "error")
    return level::error;
  if (text == "off")
    return level::off;
  return std::nullopt;
}

std::string_view level_name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
  }
  return "info";
}

void configure(settings s) {
  min_level.store(static_cast<int>(s.min), std::memory_order_relaxed);
  current() = std::move(s);
}

bool enabled(level l) noexcept {
  return l != level::off && static_cast<int>(l) >= min_level.load(std::memory_order_relaxed);
}

std::string format_line(const settings& s, level l, std::string_view msg,
                        std::initializer_list<field> fields, std::int64_t unix_ms,
                        const trace_ids& trace) {
  if (s.json) {
    // An ordered object: ts, level, node, msg first, then the fields.
    nlohmann::ordered_json line{
      {"ts", rfc3339_ms(unix_ms)}, {"level", level_name(l)}, {"node", s.node}, {"msg", msg}};
    for (const auto& [key, value] : fields)
      line[std::string{key}] = value;
    if (!trace.trace_id.empty()) {
      line["trace_id"] = trace.trace_id;
      line["span_id"] = trace.span_id;
    }
    // replace: a client's bytes in a field must not make the dump throw.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  std::string out = rfc3339_ms(unix_ms);
  out += ' ';
  for (char c : level_name(l))
    out += static_cast<char>(c - 32 * (c >= 'a' && c <= 'z'));
  out += ' ';
  out += s.node;
  out += ' ';
  out += msg;
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    out += text_value(value);
  }
  if (!trace.trace_id.empty())
    out += " trace_id=" + trace.trace_id + " span_id=" + trace.span_id;
  return out;
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) noexcept {
  if (!enabled(l))
    return;
  try {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    trace_ids ids;
    if (const auto& ctx = trace::current(); ctx.valid())
      ids = {trace::trace_id_hex(ctx), trace::span_id_hex(ctx.span)};
    auto line = format_line(current(), l, msg, fields, now, ids);
    line += '\n';
    sink::get().push(std::move(line));
  } catch (...) {
    std::fputs("{\"level\":\"error\",\"msg\":\"log_failed\"}\n", stdout);
  }
}

void write(std::string_view level_text, std::string_view msg,
           std::initializer_list<field> fields) noexcept {
  write(parse_level(level_text).value_or(level::info), msg, fields);
}

std::uint64_t dropped() noexcept {
  return sink::get().dropped();
}

void flush() noexcept {
  try {
    sink::get().stop();
  } catch (...) {
  }
}

std::string current_exception_text() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    try {
      return e.what();
    } catch (...) {
    }
  } catch (...) {
  }
  return "unknown exception";
}

} // namespace emporium::log
