// Runs a store call inside an actor handler; a SQLite failure becomes a
// storage_failure answer (the caller learns it) instead of ending the actor.
#pragma once

#include "actors/protocol.hpp"

#include <exception>

namespace emporium {

template <class F>
auto guarded(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception&) {
    return make_error(errc::storage_failure);
  }
}

} // namespace emporium
