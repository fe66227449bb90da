// What nodes check before they talk: the fingerprint of the messages they
// exchange. Nodes of builds whose fingerprints differ refuse each other at
// hello (membership.cpp), so a cluster never mixes layouts: during a
// rolling upgrade that changes a message, the nodes of each build form
// their own membership and only a majority serves (README, Cluster).
#pragma once

#include <string>

namespace emporium {

/// Raised by hand when a message keeps its layout but changes its meaning
/// (a field read differently, a handler that answers another type); a
/// layout change needs no bump, the schema shows it.
inline constexpr int wire_revision = 1;

/// Every registered message type's name and layout (wire_schema.hpp), one
/// per line, in type-id order, after the revision.
std::string wire_schema_text();

/// 16 hex digits: the stable hash of wire_schema_text().
std::string wire_fingerprint();

} // namespace emporium
