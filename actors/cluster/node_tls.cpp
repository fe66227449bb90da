// See node_tls.hpp. The audit rides on two OpenSSL hooks that need no access
// to CAF's SSL_CTX: an ex_data index whose constructor runs inside every
// SSL_new (it attaches a small watch and an info callback), and, once a
// handshake starts on a mutually authenticated connection, a verify callback
// that records why a peer's certificate was refused.
#include "actors/cluster/node_tls.hpp"

#include "support/log.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <mutex>

namespace emporium::cluster {

namespace {

// -- file checks -------------------------------------------------------------

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct store_free {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

using x509_ptr = std::unique_ptr<X509, x509_free>;

std::string openssl_errors() {
  std::string text;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text += text.empty() ? "" : "; ";
    text += buf;
  }
  return text;
}

std::unique_ptr<std::FILE, file_closer> open_file(const std::string& path) {
  return std::unique_ptr<std::FILE, file_closer>{std::fopen(path.c_str(), "rb")};
}

std::string subject_of(X509* cert) {
  if (cert == nullptr)
    return "";
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

} // namespace

std::optional<std::string> check_tls_files(const tls_files& files) {
  ERR_clear_error();
  auto fail = [](std::string what) -> std::optional<std::string> {
    auto detail = openssl_errors();
    return detail.empty() ? what : what + " (" + detail + ")";
  };
  if (files.certificate.empty() || files.key.empty() || files.ca.empty())
    return std::string{"cluster TLS needs cluster-cert, cluster-key and cluster-ca "
                       "(scripts/cluster-certs DIR NAME makes them), or cluster-tls off "
                       "on a trusted private network"};
  auto cert_file = open_file(files.certificate);
  if (!cert_file)
    return fmt::format("cannot read cluster-cert '{}'", files.certificate);
  x509_ptr cert{PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return fail(fmt::format("cluster-cert '{}' is not a PEM certificate", files.certificate));
  auto key_file = open_file(files.key);
  if (!key_file)
    return fmt::format("cannot read cluster-key '{}'", files.key);
  // An empty passphrase callback: an encrypted key fails here instead of
  // OpenSSL prompting on the terminal.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, pkey_free> key{
    PEM_read_PrivateKey(key_file.get(), nullptr, no_passphrase, nullptr)};
  if (!key)
    return fail(fmt::format("cluster-key '{}' is not an unencrypted PEM private key", files.key));
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return fail(fmt::format("cluster-key '{}' does not belong to cluster-cert '{}'", files.key,
                            files.certificate));
  std::unique_ptr<X509_STORE, store_free> store{X509_STORE_new()};
  if (!store || X509_STORE_load_file(store.get(), files.ca.c_str()) != 1)
    return fail(fmt::format("cannot load cluster-ca '{}' as PEM certificates", files.ca));
  // The rest of the chain, if the certificate file carries intermediates.
  STACK_OF(X509)* chain = sk_X509_new_null();
  while (X509* extra = PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr))
    sk_X509_push(chain, extra);
  ERR_clear_error(); // the loop above ends on "no start line"
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> ctx{X509_STORE_CTX_new()};
  bool verified = false;
  int error = 0;
  if (ctx && X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), chain) == 1) {
    // Peers verify it as both ends of the connection.
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
    verified = X509_verify_cert(ctx.get()) == 1;
    error = X509_STORE_CTX_get_error(ctx.get());
  }
  sk_X509_pop_free(chain, X509_free);
  if (!verified)
    return fmt::format("cluster-cert '{}' ({}) is not accepted by cluster-ca '{}': {}",
                       files.certificate, subject_of(cert.get()), files.ca,
                       X509_verify_cert_error_string(error));
  return std::nullopt;
}

// -- handshake audit ---------------------------------------------------------

namespace {

/// What one connection's handshake showed; lives in the SSL's ex_data.
struct handshake_watch {
  bool mutual = false;    // a cluster connection (peer certificate required)
  bool started = false;   // handshake seen starting
  bool completed = false; // handshake done: a member
  bool failed = false;    // a fatal alert went either way
  std::string peer;       // address:port of the other end
  std::string reason;     // first cause recorded
};

int watch_index = -1;
std::atomic<std::uint64_t> refused_total{0};
std::atomic<std::uint64_t> suppressed_total{0};
unsigned lines_per_second = 20;

handshake_watch* watch_of(const SSL* ssl) {
  return static_cast<handshake_watch*>(SSL_get_ex_data(ssl, watch_index));
}

std::string peer_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "unknown";
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return fmt::format("{}:{}", host, port);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  port = ntohs(in6->sin6_port);
  return fmt::format("[{}]:{}", host, port);
}

/// Bounded: a flood of bad handshakes must not become a flood of log lines.
bool admit_line() {
  using clock = std::chrono::steady_clock;
  static std::mutex mutex;
  static clock::time_point window;
  static unsigned in_window = 0;
  std::lock_guard<std::mutex> lock{mutex};
  auto now = clock::now();
  if (now - window >= std::chrono::seconds(1)) {
    window = now;
    in_window = 0;
  }
  return ++in_window <= lines_per_second;
}

int on_verify(int preverify_ok, X509_STORE_CTX* store) noexcept {
  if (preverify_ok == 1)
    return 1;
  // Called from OpenSSL's C code: an exception (bad_alloc) must not cross it.
  try {
    auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (auto* w = ssl != nullptr ? watch_of(ssl) : nullptr; w != nullptr && w->reason.empty())
      w->reason = fmt::format("certificate refused: {} (subject {})",
                              X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)),
                              subject_of(X509_STORE_CTX_get_current_cert(store)));
  } catch (...) {
  }
  return 0; // keep OpenSSL's verdict
}

void on_info_unguarded(const SSL* ssl, int where, int ret) {
  auto* w = watch_of(ssl);
  if (w == nullptr)
    return;
  if ((where & SSL_CB_HANDSHAKE_START) != 0 && !w->started) {
    w->started = true;
    auto* mutable_ssl = const_cast<SSL*>(ssl);
    w->mutual = (SSL_get_verify_mode(ssl) & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) != 0;
    if (!w->mutual)
      return; // not a cluster connection (an outgoing HTTPS client, say)
    w->peer = peer_address(SSL_get_fd(ssl));
    SSL_set_verify(mutable_ssl, SSL_get_verify_mode(ssl), on_verify);
    // BASP frames carry their own lengths, so a peer that dies without
    // close_notify truncates nothing; without this option OpenSSL 3 would
    // also leave an "unexpected eof" on the thread's error queue.
    SSL_set_options(mutable_ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
  }
  if (!w->mutual)
    return;
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0)
    w->completed = true;
  if ((where & SSL_CB_ALERT) != 0 && SSL_alert_type_string(ret)[0] == 'F') {
    w->failed = true;
    if (w->reason.empty()) {
      // OpenSSL 3.0 has no text for TLS 1.3's certificate_required (116).
      auto desc = (ret & 0xff) == 116 ? "certificate required (none presented)"
                                      : SSL_alert_desc_string_long(ret);
      w->reason = fmt::format("{} alert: {}", (where & SSL_CB_READ) != 0 ? "received" : "sent",
                              desc);
    }
    // A sent fatal alert follows the error OpenSSL queued for it: the caller
    // (CAF) gets its failure from SSL_get_error either way, and nothing
    // stale is left for the next connection served by this thread.
    if ((where & SSL_CB_WRITE) != 0)
      ERR_clear_error();
  }
  if ((where & SSL_CB_EXIT) != 0 && ret <= 0 && w->failed)
    ERR_clear_error(); // the failed handshake's own errors (received alerts)
}

void on_info(const SSL* ssl, int where, int ret) noexcept {
  try {
    on_info_unguarded(ssl, where, ret);
  } catch (...) {
    ERR_clear_error(); // the one duty left: nothing stale for the next connection
  }
}

void log_refused(const SSL* ssl, const handshake_watch& w) {
  refused_total.fetch_add(1, std::memory_order_relaxed);
  if (!admit_line()) {
    suppressed_total.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool server = SSL_is_server(ssl) == 1;
  auto reason = !w.reason.empty() ? w.reason
                                  : std::string{"connection ended before the TLS handshake completed"};
  log::warn("cluster_peer_refused",
            {{"role", server ? "accepting" : "connecting"},
             {"peer", w.peer.empty() ? "unknown" : w.peer},
             {"reason", reason},
             {"refused_total", std::to_string(refused_total.load())},
             {"suppressed_total", std::to_string(suppressed_total.load())}});
}

void on_new(void* parent, void*, CRYPTO_EX_DATA* data, int index, long, void*) noexcept {
  auto* w = new (std::nothrow) handshake_watch{};
  if (w == nullptr)
    return;
  CRYPTO_set_ex_data(data, index, w);
  SSL_set_info_callback(static_cast<SSL*>(parent), on_info);
}

void on_free(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) noexcept {
  std::unique_ptr<handshake_watch> w{static_cast<handshake_watch*>(ptr)};
  if (!w || !w->mutual)
    return;
  if (!w->completed) {
    try {
      log_refused(static_cast<SSL*>(parent), *w);
    } catch (...) {
    }
  }
  if (!w->completed || w->failed)
    ERR_clear_error(); // whatever this connection's end left on this thread
}

} // namespace

void audit_tls_handshakes(unsigned per_second) {
  static std::once_flag once;
  std::call_once(once, [per_second] {
    lines_per_second = per_second;
    OPENSSL_init_ssl(0, nullptr);
    watch_index = SSL_get_ex_new_index(0, nullptr, on_new, nullptr, on_free);
  });
}

} // namespace emporium::cluster
