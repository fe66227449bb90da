// The HTTP edge's listener and I/O threads (see server.hpp). Each accepted
// connection takes its place in the connection counts (edge_state.hpp) and
// becomes an HTTP session (http_session.hpp).
#include "http/server.hpp"

#include "http/edge_state.hpp"
#include "http/http_session.hpp"
#include "http/limit_refusals.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include <fmt/format.h>
#include <thread>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

/// A connection over its client's cap gets one canned 429 and is closed.
void refuse_connection(tcp::socket socket) {
  static const std::string answer =
    "HTTP/1.1 429 Too Many Requests\r\nServer: emporium\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: 78\r\n\r\n"
    "{\"code\":\"rate_limited\",\"message\":\"too many open connections from this client\"}";
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  net::async_write(*s, net::buffer(answer), [s](beast::error_code, std::size_t) {
    beast::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

/// Runs the io_context until it stops. An exception escaping a completion
/// handler would end the thread and, uncaught, the process: it is logged and
/// the loop goes on (the session it came from is dropped with its handler).
void run_io(net::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (...) {
      log::error("io_handler_threw", {{"error", log::current_exception_text()}});
    }
  }
}

} // namespace

/// One io_context per I/O thread, each run by its thread alone: a session
/// lives on one context and needs no strand, and the threads do not share
/// one scheduler's lock. The acceptor runs on the first context and deals
/// connections out in turn. (Measured with wrk: a shared context with a
/// strand per session spent more time in strand dispatch, type-erased
/// executor copies and the scheduler's mutex than in the catalog query;
/// see docs/benchmarks.md.)
struct server::impl {
  std::shared_ptr<shared_state> state;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::size_t next_context = 0;
  std::vector<std::thread> threads;

  net::io_context& context_for_next_connection() {
    auto& ioc = *contexts[next_context];
    next_context = (next_context + 1) % contexts.size();
    return ioc;
  }

  void do_accept() {
    acceptor->async_accept(context_for_next_connection(), [this](beast::error_code ec,
                                                                 tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor->is_open())
        return;
      if (!ec) {
        // No Nagle: a socket's pushes are several small frames written one
        // after another (a resume's replay), and with Nagle each waited for
        // the client's delayed ACK of the one before: ~40 ms per resume.
        beast::error_code nodelay_ec;
        socket.set_option(tcp::no_delay(true), nodelay_ec);
        beast::error_code peer_ec;
        auto peer = socket.remote_endpoint(peer_ec);
        std::string address = peer_ec ? std::string{} : peer.address().to_string();
        auto client = state->opts.proxies.key_of(address); // an IPv6 peer's network
        bool client_full = false;
        auto slot = connection_slot::take(state, address, client, client_full);
        if (slot) {
          start_http_session(std::move(socket), state, std::move(slot), address);
        } else if (client_full) {
          count_refusal(limit::connections_per_client, client); // the key the cap counts
          refuse_connection(std::move(socket)); // this client's cap: the others are untouched
        } else {
          count_refusal(limit::connections, address);
          beast::error_code ignored; // the global cap: refuse by closing at once
          socket.close(ignored);
        }
      }
      do_accept();
    });
  }
};

server::server(server_options opts, const router& routes) : impl_(std::make_unique<impl>()) {
  export_limit_refusals();
  impl_->state = std::make_shared<shared_state>(std::move(opts), routes);
}

server::~server() {
  if (!impl_->threads.empty())
    stop(std::chrono::milliseconds(0));
}

std::uint16_t server::start() {
  auto& opts = impl_->state->opts;
  auto threads = std::max(1u, opts.threads);
  for (unsigned i = 0; i < threads; ++i)
    impl_->contexts.push_back(std::make_unique<net::io_context>(1));
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->contexts.front());
  beast::error_code ec;
  auto address = net::ip::make_address(opts.bind, ec);
  if (ec)
    throw std::runtime_error(fmt::format("bad bind address '{}': {}", opts.bind, ec.message()));
  tcp::endpoint endpoint{address, opts.port};
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec)
    acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(endpoint, ec);
  if (!ec)
    acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error(
      fmt::format("cannot listen on {}:{}: {}", opts.bind, opts.port, ec.message()));
  auto port = acc.local_endpoint().port();
  impl_->do_accept();
  // Each context has work (the acceptor, or a guard) so that its thread
  // runs until stop(), not until its first quiet moment.
  for (auto& ioc : impl_->contexts) {
    auto* context = ioc.get();
    impl_->threads.emplace_back([context, name = fmt::format("{} {}", opts.thread_name,
                                                             impl_->threads.size())] {
      name_this_thread(name);
      auto guard = net::make_work_guard(*context);
      run_io(*context);
    });
  }
  return port;
}

void server::stop(std::chrono::milliseconds grace) {
  // Never started (main stops the edge on every way out, also when the
  // metrics listener could not bind before the edge started): nothing to
  // close. This dereferenced a missing io_context and crashed the node.
  if (impl_->contexts.empty() || !impl_->acceptor)
    return;
  net::post(*impl_->contexts.front(), [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->state->in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (auto& ioc : impl_->contexts)
    ioc->stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

std::uint64_t server::in_flight() const {
  return impl_->state->in_flight;
}

} // namespace emporium::http
