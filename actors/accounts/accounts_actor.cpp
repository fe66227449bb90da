// The accounts shard actor (see accounts_actor.hpp).
#include "domain/wall_clock.hpp"
#include "actors/accounts/accounts_actor.hpp"

#include "actors/guarded.hpp"
#include "actors/spawn_in.hpp"
#include "actors/protocol.hpp"
#include "persistence/account_store.hpp"

#include "domain/shard_map.hpp"

#include <caf/all.hpp>
#include <sodium.h>

#include <chrono>
#include <unordered_map>

namespace emporium {

namespace {


/// 128 random bits as 32 hex characters.
std::string random_user_id() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct accounts_state {
  std::unique_ptr<persistence::account_store> store;
  std::unordered_map<std::string, user_record> by_id;
  std::unordered_map<std::string, std::string> id_by_email; // lower-cased email
  millis last_prune = 0;
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

caf::result<user_record> register_new(accounts_self self, std::uint32_t shards,
                                      user_record user) {
  auto& st = self->state;
  auto key = lower(user.email);
  if (st.id_by_email.count(key) > 0)
    return make_error(errc::conflict);
  user.id = cluster::user_id_for_email(user.email, shards, random_user_id);
  if (!st.store->insert_user(user, wall_clock_ms()))
    return make_error(errc::conflict);
  st.id_by_email[key] = user.id;
  st.by_id[user.id] = user;
  return user;
}

/// A refresh token used once: answers whose it was, or unauthenticated.
caf::result<user_record> rotate(accounts_self self, const rotate_refresh_token& req) {
  auto user = self->state.store->rotate_refresh(req.old_hash, req.new_hash, req.expires_at_ms,
                                                wall_clock_ms());
  if (!user)
    return make_error(errc::unauthenticated);
  auto it = self->state.by_id.find(*user);
  if (it == self->state.by_id.end())
    return make_error(errc::unauthenticated);
  return it->second;
}

accounts_actor::behavior_type accounts_behavior(accounts_self self, std::string path,
                                                persistence::durability level,
                                                std::uint32_t shards,
                                                persistence::epoch_fence fence) {
  auto& st = self->state;
  st.store = std::make_unique<persistence::account_store>(path, level, std::move(fence));
  // One accounts actor per shard, and only the shard's owner runs it: every
  // user of the shard is loaded here and every new one registers through
  // here, so a miss in these maps is a user that does not exist.
  for (auto& u : st.store->load_users()) {
    st.id_by_email[lower(u.email)] = u.id;
    st.by_id[u.id] = std::move(u);
  }
  return {
    [self, shards](register_account& req) {
      return guarded([&] { return register_new(self, shards, std::move(req.user)); });
    },
    [self](const find_account_by_email& req) -> caf::result<user_record> {
      auto& st = self->state;
      auto it = st.id_by_email.find(lower(req.email));
      if (it == st.id_by_email.end())
        return make_error(errc::not_found);
      return st.by_id.at(it->second);
    },
    [self](const promote_account& req) {
      return guarded([&]() -> caf::result<user_record> {
        auto& st = self->state;
        auto it = st.id_by_email.find(lower(req.email));
        if (it == st.id_by_email.end())
          return make_error(errc::not_found);
        st.store->promote_to_admin(it->second);
        auto& user = st.by_id.at(it->second);
        user.role = "admin";
        return user;
      });
    },
    [self](const find_account_by_id& req) -> caf::result<user_record> {
      auto it = self->state.by_id.find(req.id);
      if (it == self->state.by_id.end())
        return make_error(errc::not_found);
      return it->second;
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
  };
}

} // namespace

accounts_actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                              persistence::durability level, std::uint32_t shards,
                              spawn_mode mode, persistence::epoch_fence fence) {
  return spawn_in(sys, mode, accounts_behavior, db_path, level, shards, std::move(fence));
}

} // namespace emporium
