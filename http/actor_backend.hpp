// The backend implemented with CAF: long-lived bridge actors take a job from
// an I/O thread and make the request (request().then, never a blocking
// receive), so the edge never waits on an actor.
#pragma once

#include "http/backend.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace emporium::http {


std::unique_ptr<backend> make_actor_backend(caf::actor_system& sys, caf::actor directory,
                                            caf::actor accounts, caf::actor catalog,
                                            std::chrono::milliseconds timeout,
                                            unsigned bridges);

} // namespace emporium::http
