// The bounded dial against real sockets on 127.0.0.1: one that accepts, a
// closed port (refused at once) and a listener whose accept queue is full
// (the kernel drops further SYNs, as a vanished peer behind a port mapping
// does), where a blocking connect(2) would wait about two minutes.
#include "actors/cluster/tcp_dial.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using namespace std::chrono_literals;
using emporium::cluster::dial_tcp;

namespace {

/// A listening socket on 127.0.0.1 with an ephemeral port.
struct listener {
  explicit listener(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, backlog) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~listener() { ::close(fd); }
  int fd = -1;
  std::uint16_t port = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

TEST_CASE("a dial to a listener gives a connected non-blocking socket") {
  listener l{4};
  auto r = dial_tcp("127.0.0.1", l.port, 2000ms);
  REQUIRE(r.fd >= 0);
  CHECK(r.error.empty());
  CHECK((::fcntl(r.fd, F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(r.fd, F_GETFD) & FD_CLOEXEC) != 0);
  int accepted = ::accept(l.fd, nullptr, nullptr);
  REQUIRE(accepted >= 0);
  CHECK(::write(r.fd, "x", 1) == 1);
  char c = 0;
  CHECK(::read(accepted, &c, 1) == 1);
  CHECK(c == 'x');
  ::close(accepted);
  ::close(r.fd);
}

TEST_CASE("a dial by name resolves it") {
  listener l{4};
  auto r = dial_tcp("localhost", l.port, 2000ms);
  REQUIRE(r.fd >= 0);
  ::close(r.fd);
}

TEST_CASE("an IPv6 address in brackets, as a seed list writes it, is dialled") {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    MESSAGE("no IPv6 loopback here; not checked");
    if (fd >= 0)
      ::close(fd);
    return;
  }
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto r = dial_tcp("[::1]", ntohs(a.sin6_port), 2000ms);
  CHECK(r.error.empty());
  REQUIRE(r.fd >= 0);
  ::close(r.fd);
  ::close(fd);
}

TEST_CASE("a closed port is refused at once, not waited for") {
  std::uint16_t port = 0;
  {
    listener gone{1};
    port = gone.port;
  }
  auto started = std::chrono::steady_clock::now();
  auto r = dial_tcp("127.0.0.1", port, 3000ms);
  CHECK(r.fd < 0);
  CHECK(r.error == "Connection refused");
  CHECK(seconds_since(started) < 1.0);
}

TEST_CASE("an address that drops SYNs fails at the deadline, not two minutes later") {
  listener full{0};
  std::vector<int> fillers; // fill the accept queue; later SYNs are dropped
  for (int i = 0; i < 3; ++i) {
    auto r = dial_tcp("127.0.0.1", full.port, 200ms);
    if (r.fd >= 0)
      fillers.push_back(r.fd);
  }
  REQUIRE_FALSE(fillers.empty());
  auto started = std::chrono::steady_clock::now();
  auto r = dial_tcp("127.0.0.1", full.port, 400ms);
  auto took = seconds_since(started);
  CHECK(r.fd < 0);
  CHECK(r.error == "no answer within 400 ms");
  CHECK(took >= 0.39);
  CHECK(took < 2.0);
  for (int fd : fillers)
    ::close(fd);
}

TEST_CASE("a name that does not resolve is an error, not a socket") {
  auto r = dial_tcp("no such host", 80, 500ms); // spaces: no lookup can match
  CHECK(r.fd < 0);
  CHECK(r.error.rfind("no such host: ", 0) == 0);
}
