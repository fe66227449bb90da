// See admin_seeder.hpp.
#include "actors/accounts/admin_seeder.hpp"

#include "actors/protocol.hpp"
#include "support/log.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <fmt/format.h>

namespace emporium {

namespace {

caf::behavior admin_seeder(caf::event_based_actor* self, caf::actor router, admin_seed seed) {
  auto ask = [=](auto request) {
    return self->request(router, std::chrono::seconds(5), atoms::accounts_call::value,
                         shard_key{shard_key::by::email, seed.admin.email},
                         caf::make_message(std::move(request)));
  };
  auto retry = [=] { self->delayed_send(self, std::chrono::seconds(1), atoms::tick::value); };
  auto done = [=](const std::string& line) {
    if (!line.empty()) {
      log::info(line);
    }
    self->quit();
  };
  // The email exists: whose is it? Promote it if allowed, else refuse.
  auto claim_existing = [=] {
    ask(find_account_by_email{seed.admin.email})
        .then(
          [=](const user_record& existing) {
            if (existing.role == "admin")
              return done("");
            if (!seed.promote) {
              seed.refuse(fmt::format(
                "admin-email {} belongs to an existing non-admin account (registered by "
                "someone else first?); refusing to start. If that account is yours, start "
                "once with --promote-admin; otherwise choose another admin-email",
                seed.admin.email));
              return done("");
            }
            ask(promote_account{seed.admin.email})
              .then(
                [=](const user_record&) {
                  done(fmt::format("account {} promoted to admin (--promote-admin)",
                                   seed.admin.email));
                },
                [=](const caf::error&) { retry(); });
          },
          [=](const caf::error&) { retry(); });
  };
  self->send(self, atoms::tick::value);
  return {
    [=](atoms::tick) {
      ask(register_account{seed.admin})
        .then([=](const user_record&) { done(fmt::format("admin {} created", seed.admin.email)); },
              [=](const caf::error& err) {
                if (to_errc(err) != errc::conflict)
                  return retry();
                claim_existing();
              });
    },
  };
}

} // namespace

caf::actor spawn_admin_seeder(caf::actor_system& sys, const caf::actor& router, admin_seed seed) {
  return sys.spawn(admin_seeder, router, std::move(seed));
}

} // namespace emporium
