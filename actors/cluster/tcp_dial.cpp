// See tcp_dial.hpp.
#include "actors/cluster/tcp_dial.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace emporium::cluster {

namespace {

using clock = std::chrono::steady_clock;

/// Waits for a non-blocking connect to finish: 0 when connected, else the
/// errno it failed with (ETIMEDOUT when the time ran out first).
int finish_connect(int fd, clock::time_point until) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    if (left.count() <= 0)
      return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      return errno;
    return err;
  }
}

} // namespace

dial_result dial_tcp(const std::string& host, std::uint16_t port,
                     std::chrono::milliseconds deadline, name_lookups& lookups) {
  auto until = clock::now() + deadline;
  auto found = lookups.resolve(host, port, deadline);
  if (!found.addresses)
    return {-1, std::move(found.error)};
  std::string last_error = "no address";
  for (auto* a = found.addresses.get(); a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS)
      err = finish_connect(fd, until);
    if (err == 0)
      return {fd, {}};
    ::close(fd);
    if (err == ETIMEDOUT) {
      lookups.forget(host, port);
      return {-1, fmt::format("no answer within {} ms", deadline.count())};
    }
    last_error = std::strerror(err);
  }
  lookups.forget(host, port);
  return {-1, last_error};
}

} // namespace emporium::cluster
