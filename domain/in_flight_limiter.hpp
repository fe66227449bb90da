// Work in progress per key, bounded: what a client may have queued or
// running at once on a shared pool (password checks), so that one client
// cannot fill the pool's queue that every client shares. A slot is held by
// a handle and given back when the last copy of the handle goes, however
// the work ends (done, refused by a full queue, dropped). Thread-safe; the
// table holds only keys with work in progress.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace emporium {

class in_flight_limiter {
public:
  explicit in_flight_limiter(unsigned max_per_key)
    : state_(std::make_shared<state>()), max_(max_per_key) {}

  /// A handle holding one of `key`'s slots, or nullptr when `key` already
  /// holds as many as it may.
  std::shared_ptr<void> hold(const std::string& key) {
    {
      std::lock_guard guard{state_->mutex};
      auto& n = state_->held[key];
      if (n >= max_) {
        if (n == 0)
          state_->held.erase(key);
        return nullptr;
      }
      ++n;
    }
    // The handle keeps the table alive: it may outlive the limiter (a
    // worker finishing during shutdown).
    // (It points at the table only to be non-null; nothing is deleted.)
    return std::shared_ptr<void>(state_.get(), [s = state_, key](void*) {
      std::lock_guard guard{s->mutex};
      auto it = s->held.find(key);
      if (it != s->held.end() && --it->second == 0)
        s->held.erase(it);
    });
  }

  /// Slots `key` holds now.
  unsigned held(const std::string& key) const {
    std::lock_guard guard{state_->mutex};
    auto it = state_->held.find(key);
    return it == state_->held.end() ? 0 : it->second;
  }

  /// Keys with work in progress.
  std::size_t keys() const {
    std::lock_guard guard{state_->mutex};
    return state_->held.size();
  }

private:
  struct state {
    mutable std::mutex mutex;
    std::unordered_map<std::string, unsigned> held;
  };
  std::shared_ptr<state> state_;
  unsigned max_;
};

} // namespace emporium
