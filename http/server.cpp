// Listener and HTTP sessions on Boost.Beast (see server.hpp). Structure after
// Beast's advanced server example: do_read/on_read pairs, one fail path,
// expected conditions (end of stream, timeout, limits) with their own branch.
#include "http/server.hpp"

#include "http/request_decoder.hpp"
#include "http/response_helpers.hpp"
#include "support/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <deque>
#include <fmt/format.h>
#include <optional>
#include <thread>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

struct shared_state {
  shared_state(server_options o, const router& r) : opts(std::move(o)), routes(r) {
  }
  server_options opts;
  const router& routes;
  std::atomic<unsigned> connections{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::mutex per_client_mutex;
  std::unordered_map<std::string, unsigned> per_client; // open connections by peer address
};

/// One open connection's place in the global and per-client counts, held by
/// the HTTP session and handed on to the WebSocket session after an
/// upgrade; released when the last of them ends.
class connection_slot {
public:
  /// nullptr when over a cap. A trusted proxy's connections carry many
  /// clients: they count globally, not per client.
  static std::shared_ptr<connection_slot> take(const std::shared_ptr<shared_state>& state,
                                               const std::string& peer, bool& per_client_full) {
    per_client_full = false;
    if (++state->connections > state->opts.max_connections) {
      --state->connections;
      return nullptr;
    }
    bool per_client = !state->opts.proxies.trusts(peer);
    if (per_client) {
      std::lock_guard guard{state->per_client_mutex};
      auto& n = state->per_client[peer];
      if (n >= state->opts.max_connections_per_client) {
        per_client_full = true;
        if (n == 0)
          state->per_client.erase(peer);
        --state->connections;
        return nullptr;
      }
      ++n;
    }
    return std::shared_ptr<connection_slot>(new connection_slot(state, peer, per_client));
  }

  ~connection_slot() {
    --state_->connections;
    if (!per_client_)
      return;
    std::lock_guard guard{state_->per_client_mutex};
    auto it = state_->per_client.find(peer_);
    if (it != state_->per_client.end() && --it->second == 0)
      state_->per_client.erase(it);
  }

private:
  connection_slot(std::shared_ptr<shared_state> s, std::string peer, bool per_client)
    : state_(std::move(s)), peer_(std::move(peer)), per_client_(per_client) {
  }
  std::shared_ptr<shared_state> state_;
  std::string peer_;
  bool per_client_;
};

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

/// One upgraded connection: reads text frames into the endpoint, writes the
/// sender's frames in order (bounded: a client that does not read is
/// dropped), and sends the endpoint's keepalive every 15 s.
class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(tcp::socket&& socket, std::shared_ptr<shared_state> state,
                    std::shared_ptr<connection_slot> slot, std::shared_ptr<ws_endpoint> endpoint)
    : ws_(std::move(socket)), state_(std::move(state)), slot_(std::move(slot)),
      endpoint_(std::move(endpoint)), keepalive_timer_(ws_.get_executor()) {
  }

  template <class Request>
  void run(Request req, std::string path) {
    path_ = std::move(path);
    ws_.set_option(beast::websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(req, beast::bind_front_handler(&websocket_session::on_accept,
                                                    shared_from_this()));
  }

  void post_send(std::string text) {
    net::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      if (self->closed_)
        return;
      if (self->outbox_.size() >= 1024)
        return self->post_close(); // the client does not keep up
      self->outbox_.push_back(std::move(text));
      self->write_next();
    });
  }

  void post_close() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (self->closed_)
        return;
      self->closed_ = true;
      self->keepalive_timer_.cancel();
      self->ws_.async_close(beast::websocket::close_code::normal,
                            [self](beast::error_code) {});
    });
  }

private:
  struct sender final : ws_sender {
    std::weak_ptr<websocket_session> session;
    void send(std::string text) override {
      if (auto s = session.lock())
        s->post_send(std::move(text));
    }
    void close() override {
      if (auto s = session.lock())
        s->post_close();
    }
  };

  void on_accept(beast::error_code ec) {
    if (ec)
      return;
    auto out = std::make_shared<sender>();
    out->session = weak_from_this();
    if (!guarded("open", [&] { endpoint_->on_open(out); }))
      return;
    if (endpoint_->keepalive())
      arm_keepalive();
    do_read();
  }

  /// Runs endpoint code; if it throws, this connection alone ends (close
  /// 1011, "internal error") and the event is logged. Returns false then.
  template <class Fn>
  bool guarded(const char* step, Fn&& fn) {
    try {
      fn();
      return true;
    } catch (...) {
      log::error("websocket_endpoint_threw",
                 {{"step", step}, {"path", path_}, {"error", log::current_exception_text()}});
    }
    if (!closed_) {
      closed_ = true;
      keepalive_timer_.cancel();
      ws_.async_close(beast::websocket::close_reason{beast::websocket::close_code::internal_error,
                                                     "internal error"},
                      [self = shared_from_this()](beast::error_code) {});
    }
    end_endpoint();
    return false;
  }

  /// Tells the endpoint the connection is over, exactly once.
  void end_endpoint() {
    if (ended_)
      return;
    ended_ = true;
    try {
      endpoint_->on_close();
    } catch (...) {
      log::error("websocket_endpoint_threw",
                 {{"step", "close"}, {"path", path_}, {"error", log::current_exception_text()}});
    }
  }

  void arm_keepalive() {
    keepalive_timer_.expires_after(std::chrono::seconds(15));
    keepalive_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_)
        return;
      std::optional<std::string> frame;
      if (!self->guarded("keepalive", [&] { frame = self->endpoint_->keepalive(); }))
        return;
      if (frame)
        self->post_send(*frame);
      self->arm_keepalive();
    });
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read,
                                                      shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      closed_ = true;
      keepalive_timer_.cancel();
      end_endpoint();
      return;
    }
    if (ended_)
      return;
    // Text frames are valid UTF-8 (Beast checks and fails the read
    // otherwise); binary frames reach the endpoint as they came.
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!guarded("message", [&] { endpoint_->on_text(text); }))
      return;
    do_read();
  }

  void write_next() {
    if (writing_ || outbox_.empty() || closed_)
      return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(outbox_.front()),
                    beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec)
      return;
    outbox_.pop_front();
    write_next();
  }

  beast::websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<shared_state> state_;
  std::shared_ptr<connection_slot> slot_;
  std::shared_ptr<ws_endpoint> endpoint_;
  std::string path_; // for logs
  bool ended_ = false; // endpoint_->on_close() has run
  net::steady_timer keepalive_timer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool closed_ = false;
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> state,
          std::shared_ptr<connection_slot> slot, std::string peer)
    : stream_(std::move(socket)), state_(std::move(state)), slot_(std::move(slot)),
      client_address_(std::move(peer)) {
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

private:
  /// One response slot per request, in request order.
  struct slot {
    std::optional<bhttp::response<bhttp::string_body>> res;
    bool keep_alive = true;
  };

  /// Guarantees an answer: a handler that drops its responder without
  /// calling it still produces a 500 instead of a hung connection.
  struct pending_reply {
    std::shared_ptr<session> owner;
    std::shared_ptr<slot> target;
    unsigned version = 11;
    bool head = false;
    std::string origin;
    std::atomic<bool> done{false};

    void send(response res) {
      if (done.exchange(true))
        return;
      auto self = owner;
      // dispatch: a synchronous handler (catalog reads) completes inline on
      // the strand; an actor callback from another thread is queued onto it.
      net::dispatch(self->stream_.get_executor(),
                [self, target = target, res = std::move(res), v = version, h = head,
                 o = origin]() mutable {
                  self->complete(*target, std::move(res), v, h, o);
                });
    }

    ~pending_reply() {
      if (!done)
        send(error_response(errc::internal, "the handler did not answer"));
    }
  };

  void do_read() {
    if (closing_ || reading_ || queue_.size() >= state_->opts.max_pipelined)
      return;
    reading_ = true;
    parser_.emplace();
    parser_->body_limit(state_->opts.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(state_->opts.max_header_bytes));
    // The head must arrive within header_timeout (a slow or silent client
    // holds a connection slot); the body then gets read_timeout.
    stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
      state_->opts.header_timeout, state_->opts.read_timeout));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t n) {
    if (ec || parser_->is_done())
      return on_read(ec, n);
    stream_.expires_after(state_->opts.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted)
      return close_after_writes();
    if (ec == bhttp::error::body_limit)
      return reject(error_response(errc::payload_too_large, "request body too large"));
    if (ec == bhttp::error::header_limit)
      return reject(error_response(errc::invalid_argument, "request header too large", 431));
    if (ec)
      return reject(error_response(errc::invalid_argument, "malformed HTTP request"));

    auto& msg = parser_->get();
    auto decoded = decode_request(msg, client_address_, state_->opts.proxies);
    if (auto* bad = std::get_if<response>(&decoded))
      return reject(std::move(*bad));
    auto& req = std::get<request>(decoded);

    if (beast::websocket::is_upgrade(msg) && queue_.empty()) {
      if (!state_->opts.websocket)
        return reject(error_response(errc::not_found, "no WebSocket endpoint here"));
      std::optional<ws_decision> decision;
      try {
        decision = state_->opts.websocket(req);
      } catch (...) {
        log::error("upgrade_threw", {{"path", req.path}, {"error", log::current_exception_text()}});
        return reject(error_response(errc::internal, "internal error"));
      }
      if (auto* refused = std::get_if<response>(&*decision))
        return reject(std::move(*refused));
      // The connection now belongs to the WebSocket session.
      closing_ = true;
      stream_.expires_never();
      std::make_shared<websocket_session>(stream_.release_socket(), state_, slot_,
                                          std::get<std::shared_ptr<ws_endpoint>>(*decision))
        ->run(parser_->release(), req.path);
      return;
    }

    auto s = std::make_shared<slot>();
    s->keep_alive = msg.keep_alive();
    queue_.push_back(s);
    ++state_->in_flight;
    auto reply = std::make_shared<pending_reply>();
    reply->owner = shared_from_this();
    reply->target = s;
    reply->version = msg.version();
    reply->head = req.method == "HEAD";
    reply->origin = req.header("origin");

    if (req.method == "OPTIONS" && !reply->origin.empty()) {
      response pre;
      pre.status = 204;
      pre.content_type.clear();
      pre.headers.emplace_back("Access-Control-Allow-Methods",
                               "GET, POST, PUT, DELETE, OPTIONS");
      pre.headers.emplace_back("Access-Control-Allow-Headers",
                               "Authorization, Content-Type, Idempotency-Key, "
                               "X-Requested-With, X-SignalR-User-Agent");
      pre.headers.emplace_back("Access-Control-Max-Age", "600");
      reply->send(std::move(pre));
    } else {
      // Last resort: a handler that throws answers this request with a 500;
      // the connection, the other connections and the process carry on.
      try {
        state_->routes.dispatch(req, [reply](response res) { reply->send(std::move(res)); });
      } catch (...) {
        log::error("handler_threw", {{"method", req.method},
                                     {"path", req.path},
                                     {"error", log::current_exception_text()}});
        reply->send(error_response(errc::internal, "internal error"));
      }
    }
    if (s->keep_alive)
      do_read();
  }

  /// Answers a request we could not parse, then closes (the stream position
  /// is unknown, so the connection cannot be reused).
  void reject(response res) {
    auto s = std::make_shared<slot>();
    s->keep_alive = false;
    queue_.push_back(s);
    ++state_->in_flight;
    complete(*s, std::move(res), 11, false, {});
  }

  bool origin_allowed(const std::string& origin) const {
    for (const auto& allowed : state_->opts.cors_origins)
      if (allowed == "*" || allowed == origin)
        return true;
    return false;
  }

  void complete(slot& target, response res, unsigned version, bool head,
                const std::string& origin) {
    if (failed_)
      return;
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    out.set(bhttp::field::server, "emporium");
    if (!res.content_type.empty())
      out.set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers)
      out.insert(name, value);
    if (!origin.empty() && origin_allowed(origin)) {
      out.set(bhttp::field::access_control_allow_origin, origin);
      out.set(bhttp::field::access_control_allow_credentials, "true");
      out.set(bhttp::field::access_control_expose_headers, "X-Total-Count, Link, Retry-After");
      out.set(bhttp::field::vary, "Origin");
    }
    out.keep_alive(target.keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    if (head)
      out.body().clear(); // Content-Length stays that of the GET answer
    target.res = std::move(out);
    write_next();
  }

  void write_next() {
    if (failed_ || writing_ || queue_.empty() || !queue_.front()->res)
      return;
    writing_ = true;
    auto& res = *queue_.front()->res;
    bhttp::async_write(stream_, res,
                       beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (failed_ || queue_.empty())
      return;
    bool keep_alive = queue_.front()->keep_alive;
    queue_.pop_front();
    --state_->in_flight;
    if (ec)
      return fail();
    if (!keep_alive)
      closing_ = true;
    if (closing_)
      return close_after_writes();
    write_next();
    do_read();
  }

  /// Stop reading; close once every queued answer has been written.
  void close_after_writes() {
    closing_ = true;
    if (!queue_.empty())
      return write_next(); // on_write comes back here after the last one
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  /// A write failed: the peer is gone. Answers still on their way are dropped.
  void fail() {
    closing_ = failed_ = true;
    state_->in_flight -= queue_.size();
    queue_.clear();
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<shared_state> state_;
  std::shared_ptr<connection_slot> slot_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<std::shared_ptr<slot>> queue_;
  std::string client_address_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool failed_ = false;
};

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

struct server::impl {
  std::shared_ptr<shared_state> state;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec,
                                                        tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open())
        return;
      if (!ec) {
        beast::error_code peer_ec;
        auto peer = socket.remote_endpoint(peer_ec);
        std::string address = peer_ec ? std::string{} : peer.address().to_string();
        bool client_full = false;
        auto slot = connection_slot::take(state, address, client_full);
        if (slot) {
          std::make_shared<session>(std::move(socket), state, std::move(slot), address)->run();
        } else if (client_full) {
          refuse_connection(std::move(socket)); // this client's cap: the others are untouched
        } else {
          beast::error_code ignored; // the global cap: refuse by closing at once
          socket.close(ignored);
        }
      }
      do_accept();
    });
  }
};

server::server(server_options opts, const router& routes) : impl_(std::make_unique<impl>()) {
  impl_->state = std::make_shared<shared_state>(std::move(opts), routes);
}

server::~server() {
  if (!impl_->threads.empty())
    stop(std::chrono::milliseconds(0));
}

std::uint16_t server::start() {
  auto& opts = impl_->state->opts;
  beast::error_code ec;
  auto address = net::ip::make_address(opts.bind, ec);
  if (ec)
    throw std::runtime_error(fmt::format("bad bind address '{}': {}", opts.bind, ec.message()));
  tcp::endpoint endpoint{address, opts.port};
  auto& acc = impl_->acceptor;
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
  for (unsigned i = 0; i < std::max(1u, opts.threads); ++i)
    impl_->threads.emplace_back([this] { run_io(impl_->ioc); });
  return port;
}

void server::stop(std::chrono::milliseconds grace) {
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->state->in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

std::uint64_t server::in_flight() const {
  return impl_->state->in_flight;
}

} // namespace emporium::http
