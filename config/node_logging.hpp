// The node's name and its logging, from the configuration.
#pragma once

#include "config/node_config.hpp"

#include <string>

namespace emporium {

/// --node-name, else bind:node-port, else "local" (a single node).
std::string node_name(const node_config& cfg);

/// Applies --log-format, --log-level and the node name, then logs the
/// effective settings (secrets only as set or not).
void configure_logging(const node_config& cfg);

} // namespace emporium
