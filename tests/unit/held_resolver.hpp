// A resolver a test holds back, then opens: a nameserver that does not
// answer, then answers late; a port where nothing listens, and a server
// that never speaks (name_lookup_test, https_client_test).
#pragma once

#include "support/name_lookup.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace emporium::testing {

/// A resolver that answers only once opened: every name is 127.0.0.1, or
/// no name at all when `answer` is EAI_NONAME.
struct held_resolver {
  std::mutex mutex;
  std::condition_variable opened_cv;
  bool opened = false;
  int answer = 0;
  int calls = 0;

  void open() {
    std::lock_guard guard{mutex};
    opened = true;
    opened_cv.notify_all();
  }
};

/// The resolver function over a shared held_resolver: the lookup's thread
/// may outlive the test case's scope until the resolver is opened.
inline resolve_fn held(std::shared_ptr<held_resolver> r) {
  return [r](const char*, const char* service, const addrinfo* hints, addrinfo** found) {
    std::unique_lock guard{r->mutex};
    ++r->calls;
    r->opened_cv.wait(guard, [&] { return r->opened; });
    if (r->answer != 0)
      return r->answer;
    return ::getaddrinfo("127.0.0.1", service, hints, found);
  };
}

/// A TCP socket bound to a port of the kernel's choosing on 127.0.0.1
/// (`flags` as socket() takes them); the port in `port`.
inline int loopback_socket(std::uint16_t& port, int flags = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

/// A port on 127.0.0.1 where nothing listens: a connect is refused.
inline std::uint16_t closed_port() {
  std::uint16_t port = 0;
  ::close(loopback_socket(port));
  return port;
}

/// A server on 127.0.0.1 that takes connections (the kernel's backlog) and
/// never says a word: a dial connects, a TLS handshake waits for good.
struct silent_server {
  std::uint16_t port = 0;
  int fd = loopback_socket(port, SOCK_NONBLOCK);
  silent_server() { REQUIRE(::listen(fd, 16) == 0); }
  ~silent_server() { ::close(fd); }
  silent_server(const silent_server&) = delete;
  silent_server& operator=(const silent_server&) = delete;
  /// Connections made to it so far (taken from the backlog, and closed).
  int connections() {
    int n = 0;
    for (int c; (c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; ++n)
      ::close(c);
    return n;
  }
};

} // namespace emporium::testing
