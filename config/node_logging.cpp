// Logging set-up from the node configuration (see node_logging.hpp).
#include "config/node_logging.hpp"

#include "support/log.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace emporium {

std::string node_name(const node_config& cfg) {
  if (!cfg.node_name.empty())
    return cfg.node_name;
  return cfg.node_port == 0 ? "local" : fmt::format("{}:{}", cfg.bind, cfg.node_port);
}

/// Log settings, then the first line: what this node runs with. Secrets
/// are never in it (the JWT secret and admin password are shown as set or
/// not).
void configure_logging(const node_config& cfg) {
  log::configure({cfg.log_format == "json",
                  log::parse_level(cfg.log_level).value_or(log::level::info), node_name(cfg)});
  auto set_or_not = [](const std::string& secret) { return secret.empty() ? "unset" : "***"; };
  log::info(
    "starting",
    {{"bind", cfg.bind}, {"port", std::to_string(cfg.port)}, {"data_dir", cfg.data_dir},
     {"node_port", std::to_string(cfg.node_port)}, {"shards", std::to_string(cfg.shards)},
     {"seeds", fmt::format("{}", fmt::join(cfg.seeds, ","))},
     {"cluster_tls", cfg.cluster_tls ? "on" : "off"},
     {"metrics", cfg.metrics_port ? fmt::format("{}:{}", cfg.metrics_bind, cfg.metrics_port)
                                  : std::string{"off"}},
     {"sync_full", cfg.sync_full ? "true" : "false"},
     {"traces", cfg.otlp_endpoint.empty() ? std::string{"off"} : cfg.otlp_endpoint},
     {"log_level", cfg.log_level}, {"slow_request_ms", std::to_string(cfg.slow_request_ms)},
     {"jwt_secret", set_or_not(cfg.jwt_secret)},
     {"admin_email", cfg.admin_email}, {"admin_password", set_or_not(cfg.admin_password)}});
}

} // namespace emporium
