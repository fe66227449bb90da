// Spawns an actor where its spawn_mode says (see spawn_mode.hpp).
#pragma once

#include "actors/spawn_mode.hpp"

#include <caf/actor_system.hpp>

#include <utility>

namespace emporium {

template <class F, class... Ts>
auto spawn_in(caf::actor_system& sys, spawn_mode mode, F fun, Ts&&... xs) {
  if (mode == spawn_mode::own_thread)
    return sys.spawn<caf::detached>(fun, std::forward<Ts>(xs)...);
  return sys.spawn(fun, std::forward<Ts>(xs)...);
}

} // namespace emporium
