// This node's fan-out of order events to live connections: the store calls
// publish() right after the transaction that wrote an outbox row; each
// subscriber (a WebSocket or SignalR connection) gets its user's rows.
#pragma once

#include "domain/order_event.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace emporium::http {

class live_hub {
public:
  using listener = std::function<void(const order_event&)>;

  /// Returns a subscription id for unsubscribe().
  std::uint64_t subscribe(const std::string& user, listener fn);
  void unsubscribe(std::uint64_t id);
  void publish(const order_event& row);
  std::size_t subscribers() const;

private:
  struct entry {
    std::string user;
    listener fn;
  };
  mutable std::mutex mutex_;
  std::uint64_t next_ = 1;
  std::unordered_map<std::uint64_t, entry> entries_;
  std::unordered_multimap<std::string, std::uint64_t> by_user_;
};

} // namespace emporium::http
