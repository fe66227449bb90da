// Password hashing pool and token helpers (see credentials.hpp).
#include "http/auth/credentials.hpp"


#include "http/auth/jwt.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace emporium::http {

namespace {

std::string encode_password(const std::string& password, hash_cost cost) {
  bool minimal = cost == hash_cost::minimal;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        minimal ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        minimal ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return {};
  return out;
}

/// One pool of workers with a bounded count of jobs waiting or running.
/// Its threads carry `name` ("login hash"): hashing is what a flood of
/// logins burns, and `top -H` should say so.
struct bounded_pool {
  bounded_pool(unsigned threads, std::size_t max, const std::string& name) : limit(max) {
    for (unsigned i = 0; i < threads; ++i)
      workers.emplace_back([this, name] {
        name_this_thread(name);
        io.run();
      });
  }
  ~bounded_pool() { join(); }

  /// Runs what is queued (delayed logins included) to its end, then joins.
  void join() {
    idle.reset();
    for (auto& t : workers)
      if (t.joinable())
        t.join();
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> idle{
    io.get_executor()};
  std::size_t limit;
  std::atomic<std::size_t> queued{0};
  std::vector<std::thread> workers;

  /// `force`: the job was admitted earlier (a delayed login whose timer fired).
  template <class Job>
  bool post(Job job, bool force = false) {
    if (queued.fetch_add(1) >= limit && !force) {
      --queued;
      return false;
    }
    boost::asio::post(io, [this, job = std::move(job)]() mutable {
      job();
      --queued;
    });
    return true;
  }
};

} // namespace

struct password_hasher::impl {
  impl(unsigned threads, hash_cost c, std::size_t max_queued)
    : logins(threads, max_queued, "login hash"),
      registrations(std::max(1u, threads / 2), max_queued, "signup hash"),
      cost(c),
      dummy(encode_password(random_token(16), c)) {
  }
  bounded_pool logins;
  bounded_pool registrations;
  hash_cost cost;
  std::string dummy; // what an unknown email is verified against
};

password_hasher::password_hasher(unsigned threads, hash_cost cost, std::size_t max_queued)
  : impl_(std::make_unique<impl>(std::max(1u, threads), cost, std::max<std::size_t>(1, max_queued))) {
}

password_hasher::~password_hasher() {
  impl_->logins.join();
  impl_->registrations.join();
}

// The continuations are a handler's: shielded, since a pool thread that lets
// an exception escape ends the process (the dropped responder answers 500).

bool password_hasher::hash(std::string password, std::function<void(std::string)> done) {
  return impl_->registrations.post(
    [password = std::move(password), done = std::move(done), cost = impl_->cost] {
      auto encoded = encode_password(password, cost);
      log::shielded("hasher_callback_threw", [&] { done(std::move(encoded)); });
    });
}

bool password_hasher::verify(std::string password, std::string encoded,
                             std::function<void(bool)> done, std::chrono::milliseconds delay) {
  auto* pool = &impl_->logins;
  auto job = [password = std::move(password), encoded = std::move(encoded),
              done = std::move(done), dummy = &impl_->dummy] {
    bool known = !encoded.empty();
    const auto& against = known ? encoded : *dummy;
    bool ok = crypto_pwhash_str_verify(against.c_str(), password.data(), password.size()) == 0;
    log::shielded("hasher_callback_threw", [&] { done(known && ok); });
  };
  if (delay.count() <= 0)
    return pool->post(std::move(job));
  if (pool->queued.load() >= pool->limit)
    return false;
  auto timer = std::make_shared<boost::asio::steady_timer>(pool->io.get_executor(), delay);
  timer->async_wait([timer, pool, job = std::move(job)](boost::system::error_code) mutable {
    pool->post(std::move(job), true);
  });
  return true;
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

std::string jwt_secret(const std::string& configured, const std::string& data_dir) {
  namespace fs = std::filesystem;
  if (!configured.empty())
    return configured;
  auto path = fs::path{data_dir} / "jwt.secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32)
    return secret;
  secret = random_token(48);
  {
    std::ofstream out(path, std::ios::trunc);
    out << secret << '\n';
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return secret;
}

std::string token_hash(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::int64_t operation_id_for_key(std::string_view scope, std::string_view user,
                                  std::string_view key) {
  // Lengths first, so ("ab", "c") and ("a", "bc") hash different bytes.
  std::string input = fmt::format("{}:{}:{}:{}:{}", scope.size(), user.size(), scope, user, key);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i)
    bits = (bits << 8) | digest[i];
  return static_cast<std::int64_t>(bits >> 2) | 1;
}

std::string new_refresh_token(const std::string& user_id) {
  return user_id + "." + random_token(32);
}

std::string refresh_token_user(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == token.size())
    return {};
  return token.substr(0, dot);
}

} // namespace emporium::http
