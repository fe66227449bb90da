// HTTP sessions on Boost.Beast (see http_session.hpp). Structure after
// Beast's advanced server example: do_read/on_read pairs, one fail path,
// expected conditions (end of stream, timeout, limits) with their own branch.
#include "http/http_session.hpp"

#include "http/cors.hpp"
#include "http/limit_refusals.hpp"
#include "http/request_decoder.hpp"
#include "http/response_helpers.hpp"
#include "http/response_wire.hpp"
#include "http/websocket_session.hpp"
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
#include <deque>
#include <optional>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

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
    std::optional<std::string> wire; // the answer's bytes, once it has come
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
    // While answers are owed, read ahead only a request the client has
    // already pipelined (bytes in buffer_); otherwise on_write starts the
    // read once the last answer is out. So the head's deadline,
    // header_timeout, counts from the connection going idle (a slow or
    // silent client holds a connection slot), and an answer slower than
    // header_timeout (a login queued for Argon2) does not close the
    // connection. A stream cannot move a pending read's deadline, so
    // reading ahead on an empty buffer would mean cancelling and restarting
    // that read after nearly every answer. A head read ahead, and any body,
    // get read_timeout: the client is sending.
    if (!queue_.empty() && buffer_.size() == 0)
      return;
    reading_ = true;
    parser_.emplace();
    parser_->body_limit(state_->opts.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(state_->opts.max_header_bytes));
    stream_.expires_after(!queue_.empty()
                            ? std::chrono::steady_clock::duration{state_->opts.read_timeout}
                            : std::min<std::chrono::steady_clock::duration>(
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
    auto decoded = decode_request(msg, client_address_, slot_->client(), state_->opts.proxies);
    if (auto* bad = std::get_if<response>(&decoded))
      return reject(std::move(*bad));
    auto& req = std::get<request>(decoded);
    auto refused = over_request_limit(req);

    if (!refused && beast::websocket::is_upgrade(msg) && queue_.empty())
      return upgrade(req);

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

    if (refused) {
      reply->send(std::move(*refused));
    } else if (req.method == "OPTIONS" && !reply->origin.empty()) {
      reply->send(preflight_response());
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

  /// A 429 when the client has used up its requests, a 503 when the node
  /// holds as many requests as it takes at once (answered in order, on a
  /// connection that stays open); only the API and the live sockets count.
  std::optional<response> over_request_limit(const request& req) {
    if (!counted_path(req.path))
      return std::nullopt;
    auto most = state_->opts.max_requests_in_flight;
    if (most > 0 && state_->in_flight >= most) {
      count_refusal(limit::requests_in_flight, req.client);
      return retry_later(errc::unavailable, "the node is busy; retry shortly", 1);
    }
    if (!state_->limiter)
      return std::nullopt;
    auto wait = state_->limiter->admit(req.client);
    if (wait == 0)
      return std::nullopt;
    count_refusal(limit::requests_per_client, req.client);
    return retry_later(errc::rate_limited, "too many requests from this client; slow down", wait);
  }

  /// Hands the connection to a WebSocket session if the endpoint for the
  /// path accepts it; otherwise answers its refusal.
  void upgrade(request& req) {
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
    start_websocket_session(stream_.release_socket(), state_, slot_,
                            std::get<std::shared_ptr<ws_endpoint>>(*decision),
                            parser_->release(), req.path, req.client);
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

  void complete(slot& target, response res, unsigned version, bool head,
                const std::string& origin) {
    if (failed_)
      return;
    target.wire = wire_response(res, {version, target.keep_alive, head},
                                cors_headers(state_->opts.cors_origins, origin));
    write_next();
  }

  void write_next() {
    if (failed_ || writing_ || queue_.empty() || !queue_.front()->wire)
      return;
    writing_ = true;
    net::async_write(stream_, net::buffer(*queue_.front()->wire),
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

} // namespace

void start_http_session(tcp::socket&& socket, std::shared_ptr<shared_state> state,
                        std::shared_ptr<connection_slot> slot, std::string peer) {
  std::make_shared<session>(std::move(socket), std::move(state), std::move(slot),
                            std::move(peer))
    ->run();
}

} // namespace emporium::http
