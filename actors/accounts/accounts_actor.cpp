// The accounts shard actor (see accounts_actor.hpp).
#include "domain/wall_clock.hpp"
#include "actors/accounts/accounts_actor.hpp"

#include "actors/guarded.hpp"
#include "actors/protocol.hpp"
#include "persistence/account_store.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <unordered_map>

namespace emporium {

namespace {


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

using accounts_self = caf::stateful_actor<accounts_state>;


caf::behavior accounts_actor(accounts_self* self, std::string path,
                             persistence::durability level) {
  auto& st = self->state;
  st.store = std::make_unique<persistence::account_store>(path, level);
  // One accounts actor per shard, and only the shard's owner runs it: every
  // user of the shard is loaded here and every new one registers through
  // here, so a miss in these maps is a user that does not exist.
  for (auto& u : st.store->load_users()) {
    st.id_by_email[lower(u.email)] = u.id;
    st.by_id[u.id] = std::move(u);
  }
  return {
    [self](atoms::register_user, user_record& user) {
      return guarded([&]() -> caf::result<user_record> {
        auto& st = self->state;
        auto key = lower(user.email);
        if (st.id_by_email.count(key) > 0 || !st.store->insert_user(user, wall_clock_ms()))
          return make_error(errc::conflict);
        st.id_by_email[key] = user.id;
        st.by_id[user.id] = user;
        return user;
      });
    },
    [self](atoms::find_email, const std::string& email) -> caf::result<user_record> {
      auto& st = self->state;
      auto it = st.id_by_email.find(lower(email));
      if (it == st.id_by_email.end())
        return make_error(errc::not_found);
      return st.by_id.at(it->second);
    },
    [self](atoms::promote, const std::string& email) {
      return guarded([&]() -> caf::result<user_record> {
        auto& st = self->state;
        auto it = st.id_by_email.find(lower(email));
        if (it == st.id_by_email.end())
          return make_error(errc::not_found);
        st.store->promote_to_admin(it->second);
        auto& user = st.by_id.at(it->second);
        user.role = "admin";
        return user;
      });
    },
    [self](atoms::find_id, const std::string& id) -> caf::result<user_record> {
      auto it = self->state.by_id.find(id);
      if (it == self->state.by_id.end())
        return make_error(errc::not_found);
      return it->second;
    },
    [self](atoms::refresh_store, const std::string& hash, const std::string& user,
           std::int64_t expires_at) {
      return guarded([&]() -> caf::result<void> {
        self->state.store->insert_refresh(hash, user, expires_at);
        prune_now_and_then(self->state);
        return caf::unit;
      });
    },
    [self](atoms::refresh_rotate, const std::string& old_hash, const std::string& new_hash,
           std::int64_t expires_at) {
      return guarded([&]() -> caf::result<user_record> {
        auto user =
          self->state.store->rotate_refresh(old_hash, new_hash, expires_at, wall_clock_ms());
        if (!user)
          return make_error(errc::unauthenticated);
        auto it = self->state.by_id.find(*user);
        if (it == self->state.by_id.end())
          return make_error(errc::unauthenticated);
        return it->second;
      });
    },
    [self](atoms::revoke, const std::string& user) {
      return guarded([&]() -> caf::result<void> {
        self->state.store->revoke_all(user);
        return caf::unit;
      });
    },
  };
}

} // namespace

caf::actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                          persistence::durability level) {
  return sys.spawn<caf::detached>(accounts_actor, db_path, level);
}

} // namespace emporium
