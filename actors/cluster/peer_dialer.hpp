// The router's way to other nodes: CAF's connect to a peer, with a dial that
// gives up in time (tcp_dial.hpp). CAF 0.17's middleman dials with a
// blocking connect(2) on its one thread, so a peer address that drops
// packets held every dial of the node behind it for about two minutes (and
// the process's exit with it). Each seed gets a dialer of its own, on its
// own thread, whose dial ends within `peer_dial_deadline`.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>

namespace emporium::cluster {

/// Long enough for a SYN lost once (Linux sends the first retry after 1 s)
/// and a TLS peer on a busy host; short enough that the router's 5 s wait
/// for the connector's answer still covers the handshake after it.
constexpr std::chrono::milliseconds peer_dial_deadline{3000};

/// A hidden actor on its own thread that answers (connect_atom, host, port)
/// as CAF's middleman does (the peer's node id and published actor), over
/// plain TCP or, with `tls`, through CAF's OpenSSL sessions (the manager
/// must be loaded). Needs the middleman loaded; stop it with an exit.
caf::actor spawn_peer_dialer(caf::actor_system& sys, bool tls,
                             std::chrono::milliseconds deadline = peer_dial_deadline);

} // namespace emporium::cluster
