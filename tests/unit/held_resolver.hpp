// A resolver a test holds back, then opens: a nameserver that does not
// answer, then answers late; and a port where nothing listens
// (name_lookup_test, https_client_test).
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

/// A port on 127.0.0.1 where nothing listens: a connect is refused.
inline std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

} // namespace emporium::testing
