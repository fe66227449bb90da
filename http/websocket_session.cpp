// WebSocket sessions on Boost.Beast (see websocket_session.hpp).
#include "http/websocket_session.hpp"

#include "http/limit_refusals.hpp"
#include "support/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <utility>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

/// One upgraded connection: reads text frames into the endpoint, writes the
/// sender's frames in order (bounded: a client that does not read is
/// dropped), and sends the endpoint's keepalive every 15 s.
class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(tcp::socket&& socket, std::shared_ptr<shared_state> state,
                    std::shared_ptr<connection_slot> slot, std::shared_ptr<ws_endpoint> endpoint)
    : ws_(std::move(socket)), state_(std::move(state)), slot_(std::move(slot)),
      endpoint_(std::move(endpoint)), keepalive_timer_(ws_.get_executor()) {
    live_sockets_gauge().add(1);
  }

  ~websocket_session() { live_sockets_gauge().add(-1); }

  void run(bhttp::request<bhttp::string_body> req, std::string path, std::string client) {
    path_ = std::move(path);
    client_ = std::move(client);
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
    void when_drained(std::function<void()> then) override {
      if (auto s = session.lock())
        s->post_when_drained(std::move(then));
    }
  };

  void post_when_drained(std::function<void()> then) {
    net::post(ws_.get_executor(), [self = shared_from_this(), then = std::move(then)]() mutable {
      if (self->closed_)
        return;
      if (self->outbox_.empty() && !self->writing_)
        return self->run_drained(std::move(then));
      self->drained_ = std::move(then);
    });
  }

  void run_drained(std::function<void()> then) {
    guarded("drained", [&] { then(); });
  }

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
    end_with(beast::websocket::close_code::internal_error, "internal error");
    return false;
  }

  /// Closes with `code` and tells the endpoint, once.
  void end_with(beast::websocket::close_code code, const char* reason) {
    if (!closed_) {
      closed_ = true;
      keepalive_timer_.cancel();
      ws_.async_close(beast::websocket::close_reason{code, reason},
                      [self = shared_from_this()](beast::error_code) {});
    }
    end_endpoint();
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
    // Each message counts against the client's request rate, like an HTTP
    // request: a socket is not a way around the limit.
    if (state_->limiter && state_->limiter->admit(client_) != 0) {
      count_refusal(limit::socket_messages_per_client, client_);
      return end_with(beast::websocket::close_code::policy_error, "too many messages");
    }
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
    if (outbox_.empty() && drained_)
      run_drained(std::exchange(drained_, nullptr));
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
  std::function<void()> drained_; // when_drained's, until the outbox empties
  bool writing_ = false;
  bool closed_ = false;
  std::string client_; // its address, for the request limit
};

} // namespace

void start_websocket_session(tcp::socket&& socket, std::shared_ptr<shared_state> state,
                             std::shared_ptr<connection_slot> slot,
                             std::shared_ptr<ws_endpoint> endpoint,
                             bhttp::request<bhttp::string_body> upgrade, std::string path,
                             std::string client) {
  std::make_shared<websocket_session>(std::move(socket), std::move(state), std::move(slot),
                                      std::move(endpoint))
    ->run(std::move(upgrade), std::move(path), std::move(client));
}

} // namespace emporium::http
