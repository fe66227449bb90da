// The backend implemented with CAF: long-lived bridge actors take a job from
// an I/O thread and make the request (request().then, never a blocking
// receive), so the edge never waits on an actor. A call not answered within
// the timeout ends as errc::timeout by the bridge's own deadline list
// (call_deadlines.hpp), not CAF's request timeout.
#pragma once

#include "actors/catalog/catalog_interface.hpp"
#include "actors/cluster/router.hpp"
#include "actors/payment/payment_actor.hpp"
#include "http/backend.hpp"

#include <caf/actor.hpp>

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace emporium::http {

struct backend_actors {
  caf::actor router; ///< every entity and every shard's order index, on any node
  catalog_actor catalog;
  std::shared_ptr<const payment_health> payment;
  std::shared_ptr<const cluster_health> cluster;
};

std::unique_ptr<backend> make_actor_backend(caf::actor_system& sys, backend_actors actors,
                                            std::chrono::milliseconds timeout,
                                            unsigned bridges);

} // namespace emporium::http
