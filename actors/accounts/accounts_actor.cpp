// The accounts shard actor (see accounts_actor.hpp).
#include "domain/wall_clock.hpp"
#include "actors/accounts/accounts_actor.hpp"

#include "actors/guarded.hpp"
#include "actors/spawn_in.hpp"
#include "actors/protocol.hpp"
#include "persistence/account_store.hpp"

#include "domain/ascii_case.hpp"
#include "domain/attempt_limiter.hpp"
#include "domain/shard_map.hpp"
#include "support/random_hex.hpp"
#include "support/thread_name.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <filesystem>

namespace emporium {

std::string random_user_id() {
  return random_hex(16);
}

namespace {

/// Users are looked up in the shard file each time (one index lookup), not
/// held here: a shard with a million users costs no memory per user, and
/// lookups are rare (sign-up, login, refresh, profile; requests carry
/// signed tokens instead).
struct accounts_state {
  std::unique_ptr<persistence::account_store> store;
  millis last_prune = 0;
  /// Login attempts per (client address, account), and failed logins per
  /// account from any address: kept here, at the account's shard, so that
  /// a client spreading its attempts over the nodes of a cluster gets the
  /// allowance once, not once per node. In memory: a shard that moves, or
  /// a restart, starts them again (they span a minute).
  std::unique_ptr<attempt_limiter> attempts;
  attempt_limiter failures{~0u};
  /// Logins (on any account) and registrations per client address, for
  /// the addresses of this shard (shard_of_address), likewise shared by
  /// every node.
  std::unique_ptr<attempt_limiter> logins_from;
  std::unique_ptr<attempt_limiter> registrations;
  static inline const char* name = "accounts";
};

/// Expired refresh tokens are deleted at most once a minute, on the way of
/// a new login (a shard with no logins keeps a few stale rows, no more).
void prune_now_and_then(accounts_state& st) {
  auto now = wall_clock_ms();
  if (now - st.last_prune < 60'000)
    return;
  st.last_prune = now;
  st.store->prune_refresh(now);
}

using accounts_self = accounts_actor::stateful_pointer<accounts_state>;

caf::result<user_record> found_or_not_found(std::optional<user_record> user) {
  if (!user)
    return make_error(errc::not_found);
  return std::move(*user);
}

/// The email's UNIQUE index decides who registers first. The same
/// registration delivered again (the router resends one whose node died
/// before it answered, not knowing whether it was carried out) answers the
/// account it made: it carries the same password hash, and argon2id's
/// random salt makes that hash unique to one sign-up, so no other request
/// can claim the account this way.
caf::result<user_record> register_new(accounts_self self, std::uint32_t shards,
                                      user_record user) {
  auto& store = *self->state.store;
  user.id = cluster::user_id_for_email(user.email, shards, random_user_id);
  if (store.insert_user(user, wall_clock_ms()))
    return user;
  auto known = store.find_by_email(user.email);
  if (known && !user.password_hash.empty() && known->password_hash == user.password_hash)
    return std::move(*known);
  return make_error(errc::conflict);
}

/// The limiters' keys: emails compare case-insensitively.
std::string attempt_key(const std::string& address, const std::string& email) {
  return address + "\n" + to_lower(email);
}

login_admission admit_login(accounts_self self, const begin_login& req) {
  auto& st = self->state;
  login_admission out;
  auto key = attempt_key(req.address, req.email);
  out.retry_after_s = st.attempts->admit(key);
  if (out.retry_after_s > 0)
    return out; // refused, uncounted
  try {
    if (auto user = st.store->find_by_email(req.email)) {
      out.found = true;
      out.user = std::move(*user);
    }
  } catch (...) {
    st.attempts->forgive(key); // our failure, not the caller's
    throw;
  }
  out.recent_failures = static_cast<std::uint32_t>(st.failures.count(to_lower(req.email)));
  return out;
}

void note_login_end(accounts_self self, const end_login& req) {
  auto& st = self->state;
  if (req.outcome == login_outcome::wrong_password)
    st.failures.record(to_lower(req.email));
  else
    st.attempts->forgive(attempt_key(req.address, req.email));
}

/// A refresh token used once: answers whose it was, or unauthenticated.
caf::result<user_record> rotate(accounts_self self, const rotate_refresh_token& req) {
  auto user = self->state.store->rotate_refresh(req.old_hash, req.new_hash, req.expires_at_ms,
                                                wall_clock_ms());
  if (!user)
    return make_error(errc::unauthenticated);
  auto found = self->state.store->find_by_id(*user);
  if (!found)
    return make_error(errc::unauthenticated);
  return *found;
}

accounts_actor::behavior_type accounts_behavior(accounts_self self, std::string path,
                                                persistence::durability level,
                                                std::uint32_t shards,
                                                persistence::epoch_fence fence,
                                                account_limits limits, bool own_thread) {
  // A detached actor's behaviour is made on its own thread: "acct shard-03"
  // (Linux keeps 15 bytes of a name). On CAF's workers it names none.
  if (own_thread)
    name_this_thread("acct " + std::filesystem::path{path}.stem().string());
  auto& st = self->state;
  st.store = std::make_unique<persistence::account_store>(path, level, std::move(fence));
  st.attempts = std::make_unique<attempt_limiter>(limits.logins_per_address_account);
  st.logins_from = std::make_unique<attempt_limiter>(limits.logins_per_address);
  st.registrations = std::make_unique<attempt_limiter>(limits.registrations_per_address);
  return {
    [self, shards](register_account& req) {
      return guarded([&] { return register_new(self, shards, std::move(req.user)); });
    },
    [self](const find_account_by_email& req) {
      return guarded(
        [&] { return found_or_not_found(self->state.store->find_by_email(req.email)); });
    },
    [self](const promote_account& req) {
      return guarded([&]() -> caf::result<user_record> {
        auto user = self->state.store->find_by_email(req.email);
        if (!user)
          return make_error(errc::not_found);
        self->state.store->promote_to_admin(user->id);
        user->role = "admin";
        return *user;
      });
    },
    [self](const find_account_by_id& req) {
      return guarded([&] { return found_or_not_found(self->state.store->find_by_id(req.id)); });
    },
    [self](const store_refresh_token& req) {
      return guarded([&]() -> caf::result<bool> {
        self->state.store->insert_refresh(req.token_hash, req.user, req.expires_at_ms);
        prune_now_and_then(self->state);
        return true;
      });
    },
    [self](const rotate_refresh_token& req) {
      return guarded([&] { return rotate(self, req); });
    },
    [self](const revoke_refresh_tokens& req) {
      return guarded([&]() -> caf::result<bool> {
        self->state.store->revoke_all(req.user);
        return true;
      });
    },
    [self](const begin_login& req) {
      return guarded([&]() -> caf::result<login_admission> { return admit_login(self, req); });
    },
    [self](const end_login& req) -> caf::result<bool> {
      note_login_end(self, req);
      return true;
    },
    [self](const admit_registration& req) -> caf::result<std::uint32_t> {
      return static_cast<std::uint32_t>(self->state.registrations->admit(req.address));
    },
    [self](const admit_login_from& req) -> caf::result<std::uint32_t> {
      return static_cast<std::uint32_t>(self->state.logins_from->admit(req.address));
    },
    [self](const end_login_from& req) -> caf::result<bool> {
      if (req.outcome != login_outcome::wrong_password)
        self->state.logins_from->forgive(req.address);
      return true;
    },
  };
}

} // namespace

accounts_actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                              persistence::durability level, std::uint32_t shards,
                              spawn_mode mode, persistence::epoch_fence fence,
                              account_limits limits) {
  return spawn_in(sys, mode, accounts_behavior, db_path, level, shards, std::move(fence),
                  limits, mode == spawn_mode::own_thread);
}

} // namespace emporium
