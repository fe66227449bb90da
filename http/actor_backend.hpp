// The backend implemented with CAF: long-lived bridge actors take a job from
// an I/O thread and make the request (request().then, never a blocking
// receive), so the edge never waits on an actor.
#pragma once

#include "actors/payment/payment_actor.hpp"
#include "http/backend.hpp"

#include <caf/actor.hpp>

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace emporium::http {


struct backend_actors {
  caf::actor directory;
  caf::actor accounts;
  caf::actor catalog;
  caf::actor orders; // the order index
  std::shared_ptr<const payment_health> payment;
};

std::unique_ptr<backend> make_actor_backend(caf::actor_system& sys, backend_actors actors,
                                            std::chrono::milliseconds timeout,
                                            unsigned bridges);

} // namespace emporium::http
