// The HTTPS client (see https_client.hpp). One io_context on one thread;
// each exchange is a coroutine, so the pool's bookkeeping is only ever
// touched on that thread and needs no lock.
#include <utility> // Boost 1.74's awaitable.hpp uses std::exchange without it

#include "payments/https_client.hpp"
#include "support/name_lookup.hpp"
#include "support/tcp_endpoints.hpp"
#include "support/thread_name.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>
#include <openssl/err.h>

#include <charconv>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace emporium::payments {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

std::optional<https_url> parse_https_url(std::string_view text, std::string& why) {
  constexpr std::string_view scheme = "https://";
  if (text.substr(0, scheme.size()) != scheme) {
    why = "must start with https://";
    return std::nullopt;
  }
  text.remove_prefix(scheme.size());
  https_url url;
  auto slash = text.find('/');
  auto authority = text.substr(0, slash);
  if (slash != std::string_view::npos)
    url.prefix = std::string{text.substr(slash)};
  while (!url.prefix.empty() && url.prefix.back() == '/')
    url.prefix.pop_back();
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    auto port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      why = "bad port";
      return std::nullopt;
    }
    url.port = std::string{port};
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || authority.find_first_of("@?# ") != std::string_view::npos) {
    why = "bad host";
    return std::nullopt;
  }
  url.host = std::string{authority};
  if (url.prefix.find_first_of("?# ") != std::string::npos) {
    why = "bad path";
    return std::nullopt;
  }
  return url;
}

namespace {

using stream_type = beast::ssl_stream<beast::tcp_stream>;

using clock_type = std::chrono::steady_clock;

struct pending {
  https_request req;
  https_done done;
  /// The exchange's end, set when it was sent: what it spends waiting for
  /// a free connection, the lookup, connecting and the round trip all come
  /// out of one `timeout`, which is as long as its caller waits for it. A
  /// deadline per step let an exchange run on for up to three times that
  /// (five with a second round), holding a connection its caller no longer
  /// waited on.
  clock_type::time_point deadline;
};

} // namespace

struct https_client::impl {
  https_options opts;
  https_url url;
  net::io_context io{1};
  ssl::context tls{ssl::context::tls_client};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;
  // Only the I/O thread touches these.
  std::vector<std::unique_ptr<stream_type>> idle;
  std::deque<pending> waiting;
  std::size_t busy = 0;
  name_lookups* lookups;
  /// A lookup's answer can come after its exchange gave up, from the
  /// lookup's thread, even after this client is gone: it posts to `io`
  /// only while the gate is open, and stop() closes it first.
  struct post_gate {
    explicit post_gate(net::io_context* i) : io(i) {}
    std::mutex mutex;
    net::io_context* io;
    bool open = true;
  };
  std::shared_ptr<post_gate> gate = std::make_shared<post_gate>(&io);

  explicit impl(https_options o)
    : opts(std::move(o)), lookups(opts.lookups ? opts.lookups : &name_lookups::system()) {
    std::string why;
    auto parsed = parse_https_url(opts.base_url, why);
    if (!parsed)
      throw std::invalid_argument("payment API URL " + opts.base_url + ": " + why);
    url = *parsed;
    boost::system::error_code ec;
    if (opts.ca_file.empty())
      tls.set_default_verify_paths(ec);
    else
      tls.load_verify_file(opts.ca_file, ec);
    if (ec)
      throw std::invalid_argument("CA file " + opts.ca_file + ": " + ec.message());
    tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  }

  void start() {
    work.emplace(io.get_executor());
    thread = std::thread([this] {
      name_this_thread("payment https");
      io.run();
    });
  }

  void stop() {
    {
      std::lock_guard guard{gate->mutex};
      gate->open = false;
    }
    work.reset();
    io.stop();
    if (thread.joinable())
      thread.join();
  }

  void submit(pending p) {
    if (busy >= opts.max_connections) {
      waiting.push_back(std::move(p));
      return;
    }
    ++busy;
    net::co_spawn(io, exchange(this, std::move(p)), net::detached);
  }

  /// Hands the freed connection slot to the next waiting exchange whose
  /// caller still waits; one whose deadline passed in the queue is answered
  /// at once and never sent.
  void release_slot() {
    --busy;
    while (!waiting.empty()) {
      auto next = std::move(waiting.front());
      waiting.pop_front();
      if (clock_type::now() < next.deadline) {
        submit(std::move(next));
        return;
      }
      answer(next, https_response{
                     0, {}, fmt::format("no connection free within {} ms", opts.timeout.count())});
    }
  }

  static std::string describe(const char* step, const boost::system::error_code& ec) {
    auto text = ec.message();
    // OpenSSL's own reason ("certificate verify failed") says more than
    // asio's category text.
    if (ec.category() == net::error::get_ssl_category()) {
      char buf[256];
      ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
      text = buf;
    }
    return std::string{step} + ": " + text;
  }

  /// The API host's addresses within the exchange's deadline, or none and
  /// `error`. asio's resolver ran getaddrinfo unbounded, one lookup at a
  /// time on a thread of its own: with a nameserver that did not answer, an
  /// order failed only at its payment deadline, with no reason logged, and
  /// a stop waited 7.0 s for the lookup (measured; whether each new
  /// connection also queued behind the one before was not). The lookup is
  /// name_lookups' (its answer shared and kept 10 s); this waits for it on
  /// a timer.
  net::awaitable<std::vector<tcp::endpoint>> resolve(clock_type::time_point deadline,
                                                     std::string& error) {
    auto ex = co_await net::this_coro::executor;
    // What the lookup's callback shares with this wait holds no asio object:
    // it may outlive the client (freed on the lookup's thread), and a timer
    // destroyed after its io_context touches freed memory. Both sides touch
    // it on the I/O thread only.
    struct wait {
      std::optional<lookup_result> answer;
      net::steady_timer* timer = nullptr; // while this coroutine waits
    };
    auto w = std::make_shared<wait>();
    net::steady_timer timer{ex, deadline};
    w->timer = &timer;
    auto port = static_cast<std::uint16_t>(std::stoul(url.port)); // parse_https_url checked it
    lookups->resolve_then(url.host, port, [gate = gate, w](const lookup_result& r) {
      std::lock_guard guard{gate->mutex};
      if (gate->open)
        net::post(*gate->io, [w, r] {
          w->answer = r;
          if (w->timer)
            w->timer->cancel();
        });
    });
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    w->timer = nullptr;
    if (!w->answer) {
      error = fmt::format("resolve: no answer within {} ms", opts.timeout.count());
      co_return std::vector<tcp::endpoint>{};
    }
    auto found = tcp_endpoints(*w->answer);
    if (found.empty())
      error = "resolve: " + w->answer->error;
    co_return found;
  }

  net::awaitable<std::unique_ptr<stream_type>> connect(clock_type::time_point deadline,
                                                       std::string& error) {
    auto ex = co_await net::this_coro::executor;
    boost::system::error_code ec;
    auto found = co_await resolve(deadline, error);
    if (found.empty())
      co_return nullptr;
    auto s = std::make_unique<stream_type>(ex, tls);
    // SNI names hosts, never addresses (RFC 6066); the certificate check
    // below covers both (an address must be in the certificate's IP SANs).
    boost::system::error_code not_ip;
    net::ip::make_address(url.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(s->native_handle(), url.host.c_str())) {
      error = "tls: cannot set the server name";
      co_return nullptr;
    }
    s->set_verify_callback(ssl::host_name_verification(url.host));
    beast::get_lowest_layer(*s).expires_at(deadline); // the handshake's too
    co_await beast::get_lowest_layer(*s).async_connect(found,
                                                       net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      error = describe("connect", ec);
      co_return nullptr;
    }
    co_await s->async_handshake(ssl::stream_base::client,
                                net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      error = describe("handshake", ec);
      co_return nullptr;
    }
    co_return s;
  }

  /// One request and its answer on `s`. False (and `error`) when the
  /// exchange failed; `answered` tells whether any answer byte came.
  net::awaitable<bool> round_trip(stream_type& s, const https_request& r,
                                  clock_type::time_point deadline, https_response& out,
                                  bool& keep, bool& answered) {
    bhttp::request<bhttp::string_body> req{r.post ? bhttp::verb::post : bhttp::verb::get,
                                           url.prefix + r.path, 11};
    req.set(bhttp::field::host, url.port == "443" ? url.host : url.host + ":" + url.port);
    req.set(bhttp::field::user_agent, "emporium");
    req.set(bhttp::field::accept, "application/json");
    for (const auto& [name, value] : r.headers)
      req.set(name, value);
    if (r.post) {
      req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
      req.body() = r.body;
      req.prepare_payload();
    }
    boost::system::error_code ec;
    beast::get_lowest_layer(s).expires_at(deadline);
    co_await bhttp::async_write(s, req, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      out.error = describe("write", ec);
      co_return false;
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(opts.max_response_bytes);
    parser.header_limit(16 * 1024);
    co_await bhttp::async_read_header(s, buffer, parser,
                                      net::redirect_error(net::use_awaitable, ec));
    if (!ec) {
      answered = true;
      co_await bhttp::async_read(s, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    }
    if (ec) {
      out.error = describe("read", ec);
      co_return false;
    }
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    keep = res.keep_alive();
    co_return true;
  }

  void close(std::unique_ptr<stream_type> s) {
    if (!s)
      return;
    boost::system::error_code ignored;
    beast::get_lowest_layer(*s).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*s).close();
  }

  // Raw `self`: a coroutine runs only while the io_context does, and the
  // io_context lives inside impl (a shared handle would keep impl alive
  // from its own queue).
  static net::awaitable<void> exchange(impl* self, pending p) {
    https_response out;
    try {
      // A pooled connection the server closed while idle fails before any
      // answer: then once more on a new one. Safe to repeat: every POST
      // carries an idempotency key.
      for (int round = 0; round < 2; ++round) {
        std::unique_ptr<stream_type> s;
        bool reused = !self->idle.empty();
        if (reused) {
          s = std::move(self->idle.back());
          self->idle.pop_back();
        } else {
          s = co_await self->connect(p.deadline, out.error);
          if (!s)
            break;
        }
        bool keep = false, answered = false;
        out = https_response{};
        bool ok = co_await self->round_trip(*s, p.req, p.deadline, out, keep, answered);
        if (ok && keep)
          self->idle.push_back(std::move(s));
        else
          self->close(std::move(s));
        if (ok || !reused || answered)
          break;
      }
    } catch (const std::exception& e) {
      out = https_response{0, {}, std::string{"client: "} + e.what()};
    }
    if (out.status == 0 && out.error.empty())
      out.error = "no answer";
    self->release_slot();
    answer(p, std::move(out));
  }

  static void answer(pending& p, https_response out) {
    try {
      p.done(std::move(out));
    } catch (...) {
      // A callback's own failure must not end the I/O thread.
    }
  }
};

https_client::https_client(https_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {
  impl_->start();
}

https_client::~https_client() {
  impl_->stop();
}

void https_client::send(https_request req, https_done done) {
  auto deadline = clock_type::now() + impl_->opts.timeout;
  net::post(impl_->io, [self = impl_.get(),
                        p = pending{std::move(req), std::move(done), deadline}]() mutable {
    self->submit(std::move(p));
  });
}

} // namespace emporium::payments
