// Open-loop scheduling shared by the generators: arrivals at an offered
// rate (Poisson or fixed) whatever the node does, handed to a pool of
// workers; an arrival that finds every worker busy waits in a backlog
// (nothing is dropped), and its latency still runs from its intended
// arrival time, so a node that falls behind shows it (no coordinated
// omission). One io_context thread: no locks.
#pragma once

#include "load_client.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <random>

namespace load {

using clock_type = std::chrono::steady_clock;

/// A keep-alive connection idle this long is replaced before its next
/// request, as a client's connection pool does: the node closes a
/// connection whose next request head has not come within its header
/// timeout (10 s by default), and a request written just as it closes
/// fails with "end of stream" or a reset. The pool below hands work to the
/// most recently idle worker, so some workers idle that long when the load
/// dips; those were the generators' occasional "errors".
constexpr auto max_idle_connection = std::chrono::seconds(5);

/// Drops `conn` when it has been idle longer than max_idle_connection
/// (the caller then opens a fresh one), and marks it used now.
template <class Stream>
void drop_if_idle(std::optional<Stream>& conn, clock_type::time_point& last_used) {
  auto now = clock_type::now();
  if (conn && now - last_used > max_idle_connection)
    conn.reset();
  last_used = now;
}

/// A worker waiting for work parks on its own timer; the dispatcher hands
/// it an arrival time and cancels the timer.
struct worker_slot {
  std::optional<clock_type::time_point> job;
  net::steady_timer* wake = nullptr;
  bool in_free = false; // listed in pool::free (something else may wake it early)
};

struct pool {
  std::vector<worker_slot> workers;
  std::vector<int> free; // indexes of workers waiting for work
  std::deque<clock_type::time_point> backlog; // arrivals no worker was free for
  bool done = false; // no more arrivals
  int running = 0; // worker coroutines still alive
  std::mt19937_64 rng{42};

  explicit pool(int n) : workers(static_cast<std::size_t>(n)), running(n) {}

  /// An arrival: to a free worker, or into the backlog.
  void arrive(clock_type::time_point at) {
    if (free.empty()) {
      backlog.push_back(at);
      return;
    }
    auto i = free.back();
    free.pop_back();
    auto& w = workers[static_cast<std::size_t>(i)];
    w.in_free = false;
    w.job = at;
    w.wake->cancel();
  }

  /// Worker `i`'s next arrival (the oldest in the backlog, or one handed to
  /// it), waiting on `wake`; nullopt once there are no more, or when `quit`
  /// is set (the worker cannot go on: its socket closed).
  net::awaitable<std::optional<clock_type::time_point>> next_job(int i, net::steady_timer& wake,
                                                                 const bool& quit) {
    auto& me = workers[static_cast<std::size_t>(i)];
    me.wake = &wake;
    boost::system::error_code ec;
    for (;;) {
      if (!me.job && !backlog.empty()) {
        me.job = backlog.front();
        backlog.pop_front();
      }
      if (me.job) {
        auto at = *me.job;
        me.job.reset();
        co_return at;
      }
      if (done || quit) {
        if (me.in_free)
          free.erase(std::find(free.begin(), free.end(), i));
        me.in_free = false;
        co_return std::nullopt;
      }
      if (!me.in_free) {
        me.in_free = true;
        free.push_back(i);
      }
      wake.expires_at(clock_type::time_point::max());
      co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
  }
};

struct schedule {
  double rate = 1000; // arrivals per second
  bool poisson = true;
  clock_type::time_point start, stop;
};

/// Hands out arrivals from `start` to `stop`, then says there are no more.
inline net::awaitable<void> dispatcher(schedule s, pool& p, long& arrivals) {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer{ex};
  std::exponential_distribution<double> gap{s.rate};
  auto fixed = std::chrono::duration<double>(1.0 / s.rate);
  auto next = s.start;
  boost::system::error_code ec;
  while (next < s.stop) {
    timer.expires_at(next);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    // Every arrival that is due by now (the timer may wake late).
    auto now = clock_type::now();
    while (next <= now && next < s.stop) {
      ++arrivals;
      p.arrive(next);
      auto d = s.poisson ? std::chrono::duration<double>(gap(p.rng)) : fixed;
      next += std::chrono::duration_cast<clock_type::duration>(d);
    }
  }
  p.done = true;
  for (auto i : p.free) {
    p.workers[static_cast<std::size_t>(i)].in_free = false;
    p.workers[static_cast<std::size_t>(i)].wake->cancel();
  }
  p.free.clear();
}

} // namespace load
