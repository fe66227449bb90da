// See peer_dialer.hpp. CAF's own middleman actor does the rest (the
// connection's BASP handshake, a cache of connected peers); this one only
// replaces how the socket is made. With TLS the connected socket gets a
// client session of CAF's OpenSSL module, which reads its certificate,
// key and CA from the same configuration as CAF's own dials.
#include "actors/cluster/peer_dialer.hpp"

#include "actors/cluster/tcp_dial.hpp"
#include "support/thread_name.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/session.hpp>

#include <unistd.h>

namespace emporium::cluster {

namespace {

using caf::io::network::default_multiplexer;
using caf::io::network::native_socket;
using caf::io::network::rw_state;

/// The stream's reads and writes go through the TLS session, which also
/// finishes the handshake on the first of them.
struct tls_transfer {
  explicit tls_transfer(caf::openssl::session_ptr s) : session(std::move(s)) {}

  rw_state read_some(std::size_t& result, native_socket fd, void* buf, std::size_t len) {
    return session->read_some(result, fd, buf, len);
  }
  rw_state write_some(std::size_t& result, native_socket fd, const void* buf, std::size_t len) {
    return session->write_some(result, fd, buf, len);
  }
  bool must_read_more(native_socket fd, std::size_t threshold) {
    return session->must_read_more(fd, threshold);
  }

  caf::openssl::session_ptr session;
};

/// A BASP connection over TLS, made from a socket we connected ourselves.
class tls_scribe final : public caf::io::scribe {
public:
  tls_scribe(default_multiplexer& mpx, native_socket fd, caf::openssl::session_ptr session)
    : scribe(caf::io::network::conn_hdl_from_socket(fd)), stream_(mpx, fd, std::move(session)) {}

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_)
      launch();
  }
  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }
  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }
  void flush() override { stream_.flush(this); }
  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }
  std::uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }
  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }

private:
  void launch() {
    launched_ = true;
    stream_.start(this);
    // Schedules a write even with nothing to send, so that the session's
    // SSL_connect gets to run before the peer has said anything.
    stream_.force_empty_write(this);
  }

  bool launched_ = false;
  caf::io::network::stream_impl<tls_transfer> stream_;
};

class peer_dialer final : public caf::io::middleman_actor_impl {
public:
  peer_dialer(caf::actor_config& cfg, caf::actor broker, bool tls,
              std::chrono::milliseconds deadline)
    : middleman_actor_impl(cfg, std::move(broker)), tls_(tls), deadline_(deadline) {}

  const char* name() const override { return "emporium.peer_dialer"; }

  // A detached actor's behaviour is made on its own thread: "peer dial".
  behavior_type make_behavior() override {
    name_this_thread("peer dial");
    return middleman_actor_impl::make_behavior();
  }

protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host,
                                             std::uint16_t port) override {
    auto dialed = dial_tcp(host, port, deadline_);
    if (dialed.fd < 0)
      return caf::make_error(caf::sec::cannot_connect_to_node, std::move(dialed.error), host,
                             port);
    auto& mpx = static_cast<default_multiplexer&>(system().middleman().backend());
    if (!tls_)
      return mpx.new_scribe(dialed.fd);
    auto session = caf::openssl::make_session(system(), dialed.fd, false);
    if (!session) {
      ::close(dialed.fd);
      return caf::make_error(caf::sec::cannot_connect_to_node, "no TLS session", host, port);
    }
    return caf::make_counted<tls_scribe>(mpx, dialed.fd, std::move(session));
  }

private:
  bool tls_;
  std::chrono::milliseconds deadline_;
};

} // namespace

caf::actor spawn_peer_dialer(caf::actor_system& sys, bool tls,
                             std::chrono::milliseconds deadline) {
  auto broker = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  return caf::actor_cast<caf::actor>(
    sys.spawn<peer_dialer, caf::detached + caf::hidden>(std::move(broker), tls, deadline));
}

} // namespace emporium::cluster
