// Name lookups with a deadline, for the peer dials (actors/cluster/
// tcp_dial.hpp) and the payment provider's connections (payments/
// https_client.hpp). glibc's getaddrinfo waits as long as the resolver's
// configuration lets it: 5 s a try, two tries per nameserver, again for
// each search domain. A seed named by a host name whose DNS did not answer
// held its dialer far past the dial's 3 s, and the node's exit until the
// last-resort watchdog. Plain POSIX and the standard library, no CAF.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

struct addrinfo;

namespace emporium {

/// getaddrinfo's signature: what a lookup calls (tests pass a slow one).
using resolve_fn = std::function<int(const char* name, const char* service,
                                     const addrinfo* hints, addrinfo** found)>;

/// A lookup's addresses (a getaddrinfo list, shared by every dial that
/// waited for the same lookup), or why there are none.
struct lookup_result {
  std::shared_ptr<addrinfo> addresses; ///< null when `error` is set
  std::string error;
};

/// Called once with a lookup's answer (resolve_then).
using resolved_fn = std::function<void(const lookup_result&)>;

/// At most one lookup per name and port at a time, each on a thread of its
/// own, waited for until a deadline and no longer. A lookup that outlives
/// its dial's deadline goes on; its answer serves the dials of the next
/// `fresh_for` (unless forgotten), so a slow resolver (a first nameserver
/// down, the next one answering after 5 s) still gets a seed dialled. Numeric addresses are
/// converted at once, without a thread or the resolver.
class name_lookups {
public:
  explicit name_lookups(resolve_fn resolve,
                        std::chrono::milliseconds fresh_for = std::chrono::seconds{10});
  name_lookups(const name_lookups&) = delete;
  name_lookups& operator=(const name_lookups&) = delete;

  /// The process's lookups, through getaddrinfo.
  static name_lookups& system();

  /// `name`'s stream addresses for `port` ("[::1]" is looked up as "::1"),
  /// within `deadline`.
  lookup_result resolve(const std::string& name, std::uint16_t port,
                        std::chrono::milliseconds deadline);

  /// As resolve(), without waiting: `then` runs once with the answer, at
  /// once on this thread (a numeric address, a fresh answer) or later on
  /// the lookup's thread. The caller keeps its own deadline; `then` may
  /// come after it (and must then do nothing harmful).
  void resolve_then(const std::string& name, std::uint16_t port, resolved_fn then);

  /// Drops a finished answer for `name` and `port`, so the next dial looks
  /// the name up again: none of its addresses took the connection (a peer
  /// restarted with a new address is then found at once, not 10 s later).
  void forget(const std::string& name, std::uint16_t port);

  /// Lookups handed to the resolver so far (numeric addresses not counted).
  std::size_t lookups_started() const;

private:
  struct lookup;
  std::shared_ptr<lookup> current_or_new(const std::string& name, const std::string& service);
  static std::string unbracketed(const std::string& host);
  /// A lookup's place in `by_name_`: "name port".
  static std::string key_of(const std::string& name, const std::string& service);
  /// The lookup for `name` (not numeric): current, or started now; or why
  /// none could start.
  std::shared_ptr<lookup> find_or_start(const std::string& name, const std::string& service,
                                        std::string& why);

  resolve_fn resolve_;
  std::chrono::milliseconds fresh_for_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<lookup>> by_name_; // by key_of
  std::size_t started_ = 0;
};

} // namespace emporium
