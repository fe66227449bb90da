// The config file parser on arbitrary text: an answer (applied or the first
// problem with its line), never an exception, and the text of an error
// always names the source.
#include "config/node_config.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  emporium::node_config cfg;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto error = emporium::apply_config_text(cfg, text, "fuzz.conf");
  if (error && error->rfind("fuzz.conf", 0) != 0)
    std::abort();
  // Whatever was accepted stays within the ranges the options declare.
  if (cfg.shards < 1 || cfg.shards > 1024 || cfg.payment_failure_rate < 0.0 ||
      cfg.payment_failure_rate > 1.0 || cfg.max_header_bytes < 512)
    std::abort();
  return 0;
}
