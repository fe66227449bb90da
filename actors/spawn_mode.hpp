// Where an actor runs: on a thread of its own (one that blocks on SQLite or
// a provider, in production) or on CAF's workers (which, in the actor tests,
// are the deterministic test scheduler).
#pragma once

#include <caf/actor_system.hpp>

#include <utility>

namespace emporium {

enum class spawn_mode { own_thread, workers };

template <class F, class... Ts>
auto spawn_in(caf::actor_system& sys, spawn_mode mode, F fun, Ts&&... xs) {
  if (mode == spawn_mode::own_thread)
    return sys.spawn<caf::detached>(fun, std::forward<Ts>(xs)...);
  return sys.spawn(fun, std::forward<Ts>(xs)...);
}

} // namespace emporium
