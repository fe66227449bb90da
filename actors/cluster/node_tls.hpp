// Node-to-node TLS (--cluster-tls on): the checks and the audit around
// CAF's OpenSSL transport, which itself only accepts or drops a connection.
// Plain OpenSSL, no CAF, so it is cheap to include and to test.
#pragma once

#include <optional>
#include <string>

namespace emporium::cluster {

struct tls_files {
  std::string certificate; ///< this node's chain (PEM)
  std::string key;         ///< its private key (PEM, unencrypted)
  std::string ca;          ///< the cluster CA peers must chain to (PEM)
};

/// Why these files cannot make this node a member, or nullopt when they can:
/// each file readable and parsed, the key belongs to the certificate, the
/// certificate chains to the CA and is valid now. CAF reads the files again
/// for every connection and throws on its I/O thread when one fails, so the
/// node checks them once before it starts and refuses to start instead.
std::optional<std::string> check_tls_files(const tls_files& files);

/// Logs every mutually authenticated TLS connection whose handshake does not
/// complete (a peer refused by us, or us refused by a peer) as one
/// "cluster_peer_refused" line: role, peer address, and the reason
/// (certificate error and subject, or the alert). Also empties the thread's
/// OpenSSL error queue once such a connection ends: CAF never reads it, and
/// a stale entry there makes OpenSSL report the next healthy connection's
/// "would block" on that thread as a fatal error. At most `per_second` lines
/// a second; the rest are counted into the next line. Idempotent.
void audit_tls_handshakes(unsigned per_second = 20);

} // namespace emporium::cluster
