// The payment provider's HTTPS client when the API host's name does not
// resolve in time: the exchange fails at its deadline with the reason, a
// late answer serves the next exchange, and a late answer after the client
// is gone touches nothing of it. One deadline covers the whole exchange:
// the lookup, the handshake and the wait for a free connection.
#include "payments/https_client.hpp"
#include "held_resolver.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using emporium::name_lookups;
using emporium::payments::https_client;
using emporium::payments::https_options;
using emporium::payments::https_request;
using emporium::payments::https_response;
using emporium::testing::closed_port;
using emporium::testing::held;
using emporium::testing::held_resolver;
using emporium::testing::silent_server;

namespace {

/// A client of the API at api.payments.test:<port>, its name looked up
/// through `lookups`.
https_options options(name_lookups& lookups, std::uint16_t port,
                      std::chrono::milliseconds timeout) {
  https_options opts;
  opts.base_url = "https://api.payments.test:" + std::to_string(port);
  opts.timeout = timeout;
  opts.lookups = &lookups;
  return opts;
}

/// One exchange's answer, waited for at most 10 s.
https_response exchange(https_client& client) {
  auto answer = std::make_shared<std::promise<https_response>>();
  auto future = answer->get_future();
  client.send(https_request{true, "/v1/payment_intents", "amount=100", {}},
              [answer](https_response r) { answer->set_value(std::move(r)); });
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// Sends one exchange now; its answer and when it came.
struct timed_exchange {
  std::promise<std::pair<https_response, double>> answer;
  std::future<std::pair<https_response, double>> future = answer.get_future();
  timed_exchange(https_client& client, std::chrono::steady_clock::time_point started) {
    client.send(https_request{true, "/v1/payment_intents", "amount=100", {}},
                [this, started](https_response r) {
                  answer.set_value({std::move(r), seconds_since(started)});
                });
  }
  std::pair<https_response, double> get() {
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    return future.get();
  }
};

} // namespace

TEST_CASE("an API host whose name lookup does not answer fails the exchange at its deadline") {
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  https_client client{options(lookups, closed_port(), 300ms)};

  auto started = std::chrono::steady_clock::now();
  auto first = exchange(client);
  auto took = seconds_since(started);
  CHECK(first.status == 0);
  CHECK(first.error == "resolve: no answer within 300 ms");
  CHECK(took >= 0.29);
  CHECK(took < 2.0);
  // The next exchange waits for the same lookup, not a queue of them.
  CHECK(exchange(client).error == "resolve: no answer within 300 ms");
  CHECK(lookups.lookups_started() == 1);

  // The nameserver answers late: the next exchange uses that answer (and
  // reaches the address, where nothing listens).
  resolver->open();
  auto later = exchange(client);
  CHECK(later.status == 0);
  CHECK(later.error.rfind("connect: ", 0) == 0);
  CHECK(lookups.lookups_started() == 1);
}

TEST_CASE("a lookup that answers after its client is gone touches nothing of it") {
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  auto port = closed_port();
  {
    https_client client{options(lookups, port, 100ms)};
    CHECK(exchange(client).error == "resolve: no answer within 100 ms");
  } // the client, its io_context and its thread are gone
  resolver->open();
  // The lookup's thread runs the client's callback now; under the
  // sanitizers a post to the destroyed io_context would be reported here.
  auto again = lookups.resolve("api.payments.test", port, 2000ms); // joins it
  CHECK(again.error.empty());
  std::this_thread::sleep_for(100ms); // the callbacks run after the answer is set
}

TEST_CASE("a lookup's wait comes out of the exchange's deadline, not before it") {
  // The name answers after 400 ms of a 700 ms deadline; the server then
  // never completes the handshake. Step by step, the handshake got 700 ms
  // of its own (the answer at ~1.1 s); now it gets what is left.
  silent_server server;
  auto resolver = std::make_shared<held_resolver>();
  name_lookups lookups{held(resolver)};
  https_client client{options(lookups, server.port, 700ms)};
  auto started = std::chrono::steady_clock::now();
  timed_exchange one{client, started};
  std::this_thread::sleep_for(400ms);
  resolver->open();
  auto [answer, took] = one.get();
  CHECK(answer.status == 0);
  CHECK(answer.error.rfind("handshake: ", 0) == 0);
  CHECK(took >= 0.69);
  CHECK(took < 0.95);
}

TEST_CASE("an exchange whose deadline passes while it waits for a connection is never sent") {
  // One connection at a time: the second exchange waits behind the first,
  // which holds the connection to its deadline (a handshake that never
  // ends). It ends with the first, unsent, instead of starting then with
  // a deadline of its own.
  silent_server server;
  auto resolver = std::make_shared<held_resolver>();
  resolver->open();
  name_lookups lookups{held(resolver)};
  auto opts = options(lookups, server.port, 500ms);
  opts.max_connections = 1;
  https_client client{opts};
  auto started = std::chrono::steady_clock::now();
  timed_exchange first{client, started};
  timed_exchange second{client, started};
  auto [one, one_took] = first.get();
  auto [two, two_took] = second.get();
  CHECK(one.error.rfind("handshake: ", 0) == 0);
  CHECK(two.error == "no connection free within 500 ms");
  CHECK(one_took >= 0.49);
  CHECK(two_took < 0.8);
  CHECK(server.connections() == 1); // the second never connected
}
