// Event fan-out (see live_hub.hpp).
#include "http/live_hub.hpp"

#include <vector>

namespace emporium::http {

std::uint64_t live_hub::subscribe(const std::string& user, listener fn) {
  std::lock_guard guard{mutex_};
  auto id = next_++;
  entries_.emplace(id, entry{user, std::move(fn)});
  by_user_.emplace(user, id);
  return id;
}

void live_hub::unsubscribe(std::uint64_t id) {
  std::lock_guard guard{mutex_};
  auto it = entries_.find(id);
  if (it == entries_.end())
    return;
  auto [first, last] = by_user_.equal_range(it->second.user);
  for (auto i = first; i != last; ++i)
    if (i->second == id) {
      by_user_.erase(i);
      break;
    }
  entries_.erase(it);
}

void live_hub::publish(const order_event& row) {
  std::vector<listener> targets;
  {
    std::lock_guard guard{mutex_};
    auto [first, last] = by_user_.equal_range(row.user);
    for (auto i = first; i != last; ++i)
      targets.push_back(entries_.at(i->second).fn);
  }
  for (auto& fn : targets) // outside the lock: a listener may unsubscribe
    fn(row);
}

std::size_t live_hub::subscribers() const {
  std::lock_guard guard{mutex_};
  return entries_.size();
}

} // namespace emporium::http
