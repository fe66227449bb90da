// Name lookups with a deadline, against a resolver the test holds back: a
// DNS server that does not answer, then answers late. The addresses it
// finally gives are real (127.0.0.1), so a dial can use them.
#include "support/name_lookup.hpp"
#include "actors/cluster/tcp_dial.hpp"
#include "held_resolver.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using emporium::name_lookups;
using emporium::testing::closed_port;
using emporium::testing::held;
using emporium::testing::held_resolver;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::uint16_t port_of(const addrinfo* a) {
  REQUIRE(a != nullptr);
  REQUIRE(a->ai_family == AF_INET);
  return ntohs(reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_port);
}

} // namespace

TEST_CASE("a lookup that does not answer fails at the deadline") {
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  auto started = std::chrono::steady_clock::now();
  auto r = lookups.resolve("peer.example", 4241, 300ms);
  auto took = seconds_since(started);
  CHECK(r.addresses == nullptr);
  CHECK(r.error == "no answer from the name lookup within 300 ms");
  CHECK(took >= 0.29);
  CHECK(took < 2.0);
  resolver->open();
}

TEST_CASE("a lookup that outlives its dial answers the next dial, started once") {
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  // Two dials give up while the one lookup runs: the second joins it.
  CHECK(lookups.resolve("peer.example", 4241, 100ms).error ==
        "no answer from the name lookup within 100 ms");
  CHECK(lookups.resolve("peer.example", 4241, 100ms).error ==
        "no answer from the name lookup within 100 ms");
  CHECK(lookups.lookups_started() == 1);
  resolver->open(); // the nameserver answers late
  auto r = lookups.resolve("peer.example", 4241, 2000ms);
  CHECK(r.error.empty());
  CHECK(port_of(r.addresses.get()) == 4241);
  CHECK(lookups.lookups_started() == 1);
  std::lock_guard guard{resolver->mutex};
  CHECK(resolver->calls == 1);
}

TEST_CASE("a dial by a name whose lookup was slow connects with its answer") {
  emporium::testing::silent_server server; // a dial connects to it
  auto port = server.port;

  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  auto first = emporium::cluster::dial_tcp("peer.example", port, 200ms, lookups);
  CHECK(first.fd < 0);
  CHECK(first.error == "no answer from the name lookup within 200 ms");
  resolver->open();
  auto second = emporium::cluster::dial_tcp("peer.example", port, 2000ms, lookups);
  CHECK(second.error.empty());
  CHECK(second.fd >= 0);
  CHECK(lookups.lookups_started() == 1);
  if (second.fd >= 0)
    ::close(second.fd);
}

TEST_CASE("an answer serves dials only while it is fresh") {
  auto resolver = std::make_shared<held_resolver>();
  resolver->open();
  name_lookups lookups{held(resolver), 50ms};
  CHECK(lookups.resolve("peer.example", 4241, 2000ms).addresses != nullptr);
  CHECK(lookups.resolve("peer.example", 4241, 2000ms).addresses != nullptr);
  CHECK(lookups.lookups_started() == 1);
  std::this_thread::sleep_for(100ms);
  CHECK(lookups.resolve("peer.example", 4241, 2000ms).addresses != nullptr);
  CHECK(lookups.lookups_started() == 2);
  // Another port is another lookup: its addresses carry the port.
  auto other = lookups.resolve("peer.example", 4242, 2000ms);
  CHECK(port_of(other.addresses.get()) == 4242);
  CHECK(lookups.lookups_started() == 3);
}

TEST_CASE("a failed lookup is asked again at the next dial") {
  auto resolver = std::make_shared<held_resolver>();
  resolver->answer = EAI_NONAME;
  resolver->open();
  name_lookups lookups{held(resolver)};
  auto r = lookups.resolve("gone.example", 4241, 2000ms);
  CHECK(r.addresses == nullptr);
  CHECK(r.error.rfind("no such host: ", 0) == 0);
  CHECK(lookups.resolve("gone.example", 4241, 2000ms).addresses == nullptr);
  CHECK(lookups.lookups_started() == 2);
}

TEST_CASE("numeric addresses never wait for the resolver") {
  auto resolver = std::make_shared<held_resolver>(); // never opened
  name_lookups lookups{held(resolver)};
  auto v4 = lookups.resolve("127.0.0.1", 4241, 100ms);
  CHECK(port_of(v4.addresses.get()) == 4241);
  auto v6 = lookups.resolve("[::1]", 4241, 100ms);
  REQUIRE(v6.addresses != nullptr);
  CHECK(v6.addresses->ai_family == AF_INET6);
  CHECK(lookups.lookups_started() == 0);
  std::lock_guard guard{resolver->mutex};
  CHECK(resolver->calls == 0);
}

TEST_CASE("an answer whose addresses all failed is looked up again at the next dial") {
  auto closed = closed_port(); // nothing listens there: a connect is refused
  auto resolver = std::make_shared<held_resolver>();
  resolver->open();
  name_lookups lookups{held(resolver)};
  auto first = emporium::cluster::dial_tcp("peer.example", closed, 2000ms, lookups);
  CHECK(first.error == "Connection refused");
  auto second = emporium::cluster::dial_tcp("peer.example", closed, 2000ms, lookups);
  CHECK(second.error == "Connection refused");
  // A peer that came back elsewhere is found by the second dial's lookup,
  // not by one 10 s later.
  CHECK(lookups.lookups_started() == 2);
}

TEST_CASE("forgetting a name leaves its running lookup to the dials that wait") {
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  CHECK(lookups.resolve("peer.example", 4241, 100ms).addresses == nullptr);
  lookups.forget("peer.example", 4241);
  CHECK(lookups.resolve("peer.example", 4241, 100ms).addresses == nullptr);
  CHECK(lookups.lookups_started() == 1); // joined, not started again
  resolver->open();
}
