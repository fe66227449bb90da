// Where an actor runs: on a thread of its own (one that blocks on SQLite or
// a provider, in production) or on CAF's workers (which, in the actor tests,
// are the deterministic test scheduler). Light on purpose: actor headers
// name it; spawn_in.hpp, which spawns accordingly, is for actor .cpp files.
#pragma once

namespace emporium {

enum class spawn_mode { own_thread, workers };

} // namespace emporium
