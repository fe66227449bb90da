// Creates the configured first admin unless that email already exists.
#pragma once

#include "domain/records.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace emporium {

struct admin_seed {
  user_record admin;       ///< email and password hash (the accounts actor gives the id)
  bool promote = false;    ///< --promote-admin: a customer holding the email becomes admin
  /// Called when the email belongs to a customer and promote is off: the
  /// node must not run (the message says why and what to do).
  std::function<void(const std::string&)> refuse;
};

/// The admin's shard may not be open yet (a cluster forming, no majority):
/// the seeder asks the router again every second until the account exists,
/// then quits.
caf::actor spawn_admin_seeder(caf::actor_system& sys, const caf::actor& router, admin_seed seed);

} // namespace emporium
