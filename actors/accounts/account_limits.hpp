// What each shard's accounts actor allows per minute, counted there so that
// every node of a cluster counts the same attempts (config: the
// login-failures-per-minute-* and registrations-per-minute-ip settings).
#pragma once

namespace emporium {

struct account_limits {
  /// Login attempts a client address may start on one account, at the
  /// account's shard (begin_login); a success is taken back.
  unsigned logins_per_address_account = 5;
  /// Login attempts a client address may start on any accounts, at the
  /// address's shard (admit_login_from); a success is taken back.
  unsigned logins_per_address = 30;
  /// Registrations a client address may start, at the address's shard
  /// (admit_registration).
  unsigned registrations_per_address = 10;
};

} // namespace emporium
