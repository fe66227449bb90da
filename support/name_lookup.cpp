// See name_lookup.hpp.
#include "support/name_lookup.hpp"

#include "support/thread_name.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

namespace emporium {

namespace {

using clock = std::chrono::steady_clock;

addrinfo stream_hints(int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  return hints;
}

std::shared_ptr<addrinfo> owned(addrinfo* list) {
  return {list, [](addrinfo* a) { ::freeaddrinfo(a); }};
}

/// A numeric address's answer, at once and without a resolver; nullopt
/// for a name, which needs a lookup.
std::optional<lookup_result> numeric(const std::string& name, const std::string& service) {
  auto hints = stream_hints(AI_NUMERICHOST | AI_NUMERICSERV);
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found);
  if (rc == 0)
    return lookup_result{owned(found), {}};
  if (rc != EAI_NONAME)
    return lookup_result{nullptr, fmt::format("no such host: {}", ::gai_strerror(rc))};
  return std::nullopt;
}

} // namespace

/// One lookup, shared by the dials that wait for it and the thread that
/// runs it: whichever lets go last frees it.
struct name_lookups::lookup {
  std::mutex mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  clock::time_point finished_at;
  lookup_result result;
  std::vector<resolved_fn> then; // resolve_then's, until finished
};

name_lookups::name_lookups(resolve_fn resolve, std::chrono::milliseconds fresh_for)
  : resolve_(std::move(resolve)), fresh_for_(fresh_for) {}

name_lookups& name_lookups::system() {
  static name_lookups instance{[](const char* name, const char* service,
                                  const addrinfo* hints, addrinfo** found) {
    return ::getaddrinfo(name, service, hints, found);
  }};
  return instance;
}

std::size_t name_lookups::lookups_started() const {
  std::lock_guard guard{mutex_};
  return started_;
}

std::shared_ptr<name_lookups::lookup>
name_lookups::current_or_new(const std::string& name, const std::string& service) {
  std::lock_guard guard{mutex_};
  auto& slot = by_name_[key_of(name, service)];
  if (slot) {
    std::lock_guard inner{slot->mutex};
    // Running: join it. Answered with addresses lately: use them. A failed
    // lookup is not reused: the name may exist by the next dial.
    if (!slot->finished ||
        (slot->result.addresses && clock::now() - slot->finished_at < fresh_for_))
      return slot;
  }
  auto fresh = std::make_shared<lookup>();
  // The thread keeps the lookup alive past every dial that gave up on it.
  std::thread{[fresh, resolve = resolve_, name, service] {
    name_this_thread("name lookup");
    auto hints = stream_hints(AI_NUMERICSERV);
    addrinfo* found = nullptr;
    int rc = resolve(name.c_str(), service.c_str(), &hints, &found);
    lookup_result result;
    if (rc == 0 && found != nullptr)
      result.addresses = owned(found);
    else
      result.error = fmt::format("no such host: {}", rc == 0 ? "no address" : ::gai_strerror(rc));
    std::vector<resolved_fn> then;
    {
      std::lock_guard inner{fresh->mutex};
      fresh->result = std::move(result);
      fresh->finished = true;
      fresh->finished_at = clock::now();
      fresh->finished_cv.notify_all();
      then.swap(fresh->then);
    }
    for (auto& f : then) // outside the lock: a callback may look the name up again
      f(fresh->result);
  }}.detach();
  ++started_;
  slot = fresh;
  return fresh;
}

std::string name_lookups::unbracketed(const std::string& host) {
  // "[::1]", as an IPv6 address is written beside a port in a seed list.
  bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  return bracketed ? host.substr(1, host.size() - 2) : host;
}

std::string name_lookups::key_of(const std::string& name, const std::string& service) {
  return name + " " + service;
}

void name_lookups::forget(const std::string& host, std::uint16_t port) {
  std::lock_guard guard{mutex_};
  auto found = by_name_.find(key_of(unbracketed(host), std::to_string(port)));
  if (found == by_name_.end() || !found->second)
    return;
  bool finished = false;
  {
    std::lock_guard inner{found->second->mutex};
    finished = found->second->finished;
  }
  if (finished) // a running lookup stays: dials wait for it
    by_name_.erase(found);
}

std::shared_ptr<name_lookups::lookup>
name_lookups::find_or_start(const std::string& name, const std::string& service,
                            std::string& why) {
  try {
    return current_or_new(name, service);
  } catch (const std::system_error& e) { // no thread to run it on
    why = fmt::format("name lookup not started: {}", e.what());
    return nullptr;
  }
}

lookup_result name_lookups::resolve(const std::string& host, std::uint16_t port,
                                    std::chrono::milliseconds deadline) {
  auto until = clock::now() + deadline;
  auto name = unbracketed(host);
  auto service = std::to_string(port);
  if (auto at_once = numeric(name, service))
    return *at_once;
  std::string why;
  auto running = find_or_start(name, service, why);
  if (!running)
    return {nullptr, why};
  std::unique_lock guard{running->mutex};
  if (!running->finished_cv.wait_until(guard, until, [&] { return running->finished; }))
    return {nullptr, fmt::format("no answer from the name lookup within {} ms", deadline.count())};
  return running->result;
}

void name_lookups::resolve_then(const std::string& host, std::uint16_t port,
                                resolved_fn then) {
  auto name = unbracketed(host);
  auto service = std::to_string(port);
  if (auto at_once = numeric(name, service))
    return then(*at_once);
  std::string why;
  auto running = find_or_start(name, service, why);
  if (!running)
    return then({nullptr, why});
  std::unique_lock guard{running->mutex};
  if (!running->finished) {
    running->then.push_back(std::move(then));
    return;
  }
  auto result = running->result;
  guard.unlock();
  then(result);
}

} // namespace emporium
