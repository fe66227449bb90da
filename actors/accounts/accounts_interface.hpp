// What a shard's accounts actor accepts; each request names its reply and
// the handle is a typed_actor. Callers on other nodes reach it through the
// router's (accounts_call, shard, request) envelope. Every answer may be an
// errc error instead.
#pragma once

#include "domain/records.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace emporium {

/// Takes a new user's email: conflict when it is taken (except by this
/// same registration, whose password hash is unique to it: delivered again,
/// it answers the account it made, so it is safe to resend). The accounts
/// actor gives the user an id that lands on this shard (the email's), so
/// that lookups by id and by email meet here.
struct register_account {
  using reply = user_record;
  user_record user;
};

/// not_found when no user has that email (compared case-insensitively).
struct find_account_by_email {
  using reply = user_record;
  std::string email;
};

struct find_account_by_id {
  using reply = user_record;
  std::string id;
};

/// A login's first step, at the account's shard, so that every node counts
/// the same attempts: admits the attempt of client `address` on `email`
/// within the per-(address, account) allowance (counted now, before the
/// slow hash), or refuses it with the seconds to wait.
struct begin_login {
  using reply = login_admission;
  std::string email;
  std::string address;
};

/// How a begun login ended; true once noted.
struct end_login {
  using reply = bool;
  std::string email;
  std::string address;
  login_outcome outcome = login_outcome::wrong_password;
};

/// A login from client `address` on any account, counted at the address's
/// shard so that the nodes of a cluster share one allowance (one address
/// trying many accounts): 0 when admitted (and counted), else the seconds
/// to wait. Sent before begin_login; its end_login_from follows.
struct admit_login_from {
  using reply = std::uint32_t;
  std::string address;
};

/// How a login admitted by admit_login_from ended: anything but a wrong
/// password takes its attempt back. True once noted.
struct end_login_from {
  using reply = bool;
  std::string address;
  login_outcome outcome = login_outcome::wrong_password;
};

/// A registration from client `address`, counted at the address's shard so
/// that the nodes of a cluster share one allowance: 0 when admitted (and
/// counted), else the seconds to wait.
struct admit_registration {
  using reply = std::uint32_t;
  std::string address;
};

/// Makes the account with that email an admin (the admin seeder's
/// --promote-admin).
struct promote_account {
  using reply = user_record;
  std::string email;
};

/// Stores a refresh token's hash for `user`; true once stored.
struct store_refresh_token {
  using reply = bool;
  std::string token_hash;
  std::string user;
  std::int64_t expires_at_ms = 0;
};

/// Swaps a live refresh token for a new one (single use); unauthenticated
/// for an unknown, used or expired token. Answers whose token it was.
struct rotate_refresh_token {
  using reply = user_record;
  std::string old_hash;
  std::string new_hash;
  std::int64_t expires_at_ms = 0;
};

/// Revokes every refresh token of `user`; true once done.
struct revoke_refresh_tokens {
  using reply = bool;
  std::string user;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, register_account& x) {
  return f(caf::meta::type_name("register_account"), x.user);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_account_by_email& x) {
  return f(caf::meta::type_name("find_account_by_email"), x.email);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_admission& x) {
  return f(caf::meta::type_name("login_admission"), x.retry_after_s, x.found, x.user,
           x.recent_failures);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, begin_login& x) {
  return f(caf::meta::type_name("begin_login"), x.email, x.address);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admit_registration& x) {
  return f(caf::meta::type_name("admit_registration"), x.address);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admit_login_from& x) {
  return f(caf::meta::type_name("admit_login_from"), x.address);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, end_login_from& x) {
  return f(caf::meta::type_name("end_login_from"), x.address, x.outcome);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, end_login& x) {
  return f(caf::meta::type_name("end_login"), x.email, x.address, x.outcome);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_account_by_id& x) {
  return f(caf::meta::type_name("find_account_by_id"), x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, promote_account& x) {
  return f(caf::meta::type_name("promote_account"), x.email);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_refresh_token& x) {
  return f(caf::meta::type_name("store_refresh_token"), x.token_hash, x.user, x.expires_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rotate_refresh_token& x) {
  return f(caf::meta::type_name("rotate_refresh_token"), x.old_hash, x.new_hash,
           x.expires_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_refresh_tokens& x) {
  return f(caf::meta::type_name("revoke_refresh_tokens"), x.user);
}

using accounts_actor = caf::typed_actor<
  caf::replies_to<register_account>::with<user_record>,
  caf::replies_to<find_account_by_email>::with<user_record>,
  caf::replies_to<find_account_by_id>::with<user_record>,
  caf::replies_to<promote_account>::with<user_record>,
  caf::replies_to<store_refresh_token>::with<bool>,
  caf::replies_to<rotate_refresh_token>::with<user_record>,
  caf::replies_to<revoke_refresh_tokens>::with<bool>,
  caf::replies_to<begin_login>::with<login_admission>,
  caf::replies_to<end_login>::with<bool>,
  caf::replies_to<admit_registration>::with<std::uint32_t>,
  caf::replies_to<admit_login_from>::with<std::uint32_t>,
  caf::replies_to<end_login_from>::with<bool>>;

} // namespace emporium
