// GET /metrics on a listener of its own (--metrics-port, --metrics-bind):
// the node's registry in the Prometheus text format, plus the standard
// process_* metrics. Separate from the shop's port so that it can stay on
// a private address while the shop is public.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace emporium::http {

class metrics_listener {
public:
  /// Binds and starts serving; throws std::runtime_error when it cannot bind.
  metrics_listener(const std::string& bind, std::uint16_t port);
  ~metrics_listener();
  std::uint16_t port() const noexcept { return port_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
};

/// Registers the process_* collector (resident memory, CPU seconds, open
/// file descriptors, start time) with the default registry, once.
void register_process_metrics();

} // namespace emporium::http
