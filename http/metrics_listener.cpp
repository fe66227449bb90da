// The metrics listener and the process collector (see metrics_listener.hpp).
#include "http/metrics_listener.hpp"

#include "http/router.hpp"
#include "http/server.hpp"
#include "support/metrics.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace emporium::http {

struct metrics_listener::impl {
  router routes;
  std::unique_ptr<server> listener;
};

metrics_listener::metrics_listener(const std::string& bind, std::uint16_t port)
  : impl_(std::make_unique<impl>()) {
  impl_->routes.add("GET", "/metrics", [](request&, responder respond) {
    response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = metrics::default_registry().expose();
    respond(std::move(res));
  });
  server_options opts;
  opts.bind = bind;
  opts.port = port;
  opts.threads = 1;
  opts.thread_name = "metrics io"; // not a second "http io 0"
  opts.max_connections = 64;
  opts.max_connections_per_client = 16;
  impl_->listener = std::make_unique<server>(std::move(opts), impl_->routes);
  port_ = impl_->listener->start();
}

metrics_listener::~metrics_listener() {
  impl_->listener->stop(std::chrono::milliseconds(500));
}

namespace {

/// Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat,
/// in clock ticks; the command name (field 2) may hold spaces.
struct proc_stat {
  double utime = 0, stime = 0, starttime = 0;
};

proc_stat read_proc_stat() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  proc_stat out;
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return out;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 14)
      out.utime = std::stod(field);
    else if (i == 15)
      out.stime = std::stod(field);
    else if (i == 22)
      out.starttime = std::stod(field);
  }
  return out;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value)
      return value;
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

double resident_bytes() {
  std::ifstream in("/proc/self/statm");
  double pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

} // namespace

void register_process_metrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    auto start = boot_time_seconds() + read_proc_stat().starttime / ticks;
    metrics::default_registry().add_collector([ticks, start](metrics::exposition& out) {
      auto stat = read_proc_stat();
      out.single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                 "counter", (stat.utime + stat.stime) / ticks);
      out.single("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
                 resident_bytes());
      out.single("process_open_fds", "Number of open file descriptors.", "gauge", open_fds());
      out.single("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", "gauge", start);
    });
  });
}

} // namespace emporium::http
