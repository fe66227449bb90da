// The edge's actor calls waiting for an answer, in the order they were
// made, with the time each gives up (every call of a bridge has the same
// timeout, so that order is also the order of their deadlines).
//
// Why not CAF's own request timeout: CAF 0.17 never cancels one. Each
// request with a timeout is an entry in the clock thread's map and, once
// the time has passed, a message to the requester, even when the answer
// came long before: 9% of the node's CPU in the clock thread alone on cart
// reads over HTTP, and a wake-up of the bridge per request. The bridges ask
// without a CAF timeout and keep this list instead: one entry per call,
// dropped when answered, and one timer per bridge for the oldest deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace emporium::http {

template <class CallId>
class call_deadlines {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Adds a call; the number names it to answered().
  std::uint64_t add(CallId id, time_point deadline) {
    calls_.push_back({id, deadline, false});
    return first_ + calls_.size() - 1;
  }

  /// The call `n` was answered: it no longer times out. Calls answered
  /// leave the front at once, so the list holds little more than the calls
  /// in flight (a slow call at the front keeps the answered ones behind it
  /// until it ends).
  void answered(std::uint64_t n) {
    if (n >= first_ && n - first_ < calls_.size())
      calls_[n - first_].answered = true;
    drop_answered();
  }

  /// The calls still unanswered whose deadline is at or before `now`,
  /// oldest first; they are removed (each times out once).
  std::vector<CallId> expire(time_point now) {
    std::vector<CallId> late;
    while (!calls_.empty() && (calls_.front().answered || calls_.front().deadline <= now)) {
      if (!calls_.front().answered)
        late.push_back(calls_.front().id);
      pop();
    }
    return late;
  }

  /// The deadline of the oldest call still waiting; nullopt if none.
  std::optional<time_point> next_deadline() const {
    if (calls_.empty())
      return std::nullopt;
    return calls_.front().deadline;
  }

  /// Calls kept: the unanswered, and answered ones behind an unanswered.
  std::size_t size() const { return calls_.size(); }

private:
  struct call {
    CallId id;
    time_point deadline;
    bool answered;
  };
  void pop() {
    calls_.pop_front();
    ++first_;
  }
  void drop_answered() {
    while (!calls_.empty() && calls_.front().answered)
      pop();
  }
  std::deque<call> calls_;
  std::uint64_t first_ = 0; // the number of calls_.front()
};

} // namespace emporium::http
