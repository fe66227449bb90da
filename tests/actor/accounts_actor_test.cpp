// The accounts shard's login counting (begin_login / end_login): attempts
// per (client address, account) and an account's failures, kept at the
// account's shard so that every node of a cluster counts the same ones;
// and registrations per client address (admit_registration), kept at the
// address's shard for the same reason, as are logins per client address on
// any account (admit_login_from / end_login_from). And a registration
// delivered twice, as the router resends one whose node died.
#include "actors/accounts/accounts_actor.hpp"
#include "fixture.hpp"

using namespace emporium;
using namespace emporium::testing;

namespace {

struct accounts_fixture : deterministic {
  accounts_actor accounts;

  explicit accounts_fixture(unsigned per_address_account, unsigned registrations = 10,
                            unsigned logins_per_address = 30) {
    accounts = spawn_accounts(sys, fresh_db("accounts-logins"), persistence::durability::normal,
                              1, spawn_mode::workers, {},
                              {per_address_account, logins_per_address, registrations});
  }

  ~accounts_fixture() {
    caf::anon_send_exit(accounts, caf::exit_reason::kill);
    sched.run();
  }

  /// The answer, value or error.
  template <class Request>
  reply_box<typename Request::reply> answer(Request req) {
    auto box = std::make_shared<reply_box<typename Request::reply>>();
    auto to = accounts;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, req)
        .then([box](typename Request::reply& value) { box->value = std::move(value); },
              [box](caf::error& err) { box->error = to_errc(err); });
    });
    sched.run();
    return *box;
  }

  template <class Request>
  typename Request::reply call(Request req) {
    auto box = answer(std::move(req));
    REQUIRE(box.value.has_value());
    return *box.value;
  }

  login_admission begin(const std::string& email, const std::string& address) {
    return call(begin_login{email, address});
  }

  void end(const std::string& email, const std::string& address, login_outcome outcome) {
    CHECK(call(end_login{email, address, outcome}));
  }
};

} // namespace

TEST_CASE("accounts shard: login attempts per (address, account) up to the allowance, then a "
          "wait; a success or our own failure takes its attempt back") {
  accounts_fixture f(3);
  auto alice = f.call(register_account{{"", "alice@example.com", "hash-a", "A", "L", "customer"}});
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto admitted = f.begin("alice@example.com", "10.0.0.1");
    CHECK(admitted.retry_after_s == 0);
    REQUIRE(admitted.found);
    CHECK(admitted.user.id == alice.id);
    CHECK(admitted.user.password_hash == "hash-a");
    CHECK(admitted.recent_failures == i); // the account's failures so far
    f.end("alice@example.com", "10.0.0.1", login_outcome::wrong_password);
  }
  // The fourth, in another spelling of the email, waits; nothing is looked up.
  auto refused = f.begin("Alice@Example.COM", "10.0.0.1");
  CHECK(refused.retry_after_s > 0);
  CHECK(refused.retry_after_s <= 60);
  CHECK_FALSE(refused.found);
  // Another address is admitted, and sees the account's failures.
  auto other = f.begin("alice@example.com", "10.0.0.2");
  CHECK(other.retry_after_s == 0);
  CHECK(other.recent_failures == 3);
  f.end("alice@example.com", "10.0.0.2", login_outcome::succeeded);
  // Successes and our failures use no allowance: 5 in a row on a limit of 3.
  for (int i = 0; i < 5; ++i) {
    auto admitted = f.begin("alice@example.com", "10.0.0.3");
    REQUIRE(admitted.retry_after_s == 0);
    f.end("alice@example.com", "10.0.0.3",
          i % 2 ? login_outcome::succeeded : login_outcome::not_checked);
  }
  CHECK(f.begin("alice@example.com", "10.0.0.3").retry_after_s == 0);
}

TEST_CASE("accounts shard: an unknown email is admitted and counted like a known one, with no "
          "account to check") {
  accounts_fixture f(2);
  for (int i = 0; i < 2; ++i) {
    auto admitted = f.begin("nobody@example.com", "10.0.0.9");
    CHECK(admitted.retry_after_s == 0);
    CHECK_FALSE(admitted.found);
    CHECK(admitted.user.password_hash.empty());
    f.end("nobody@example.com", "10.0.0.9", login_outcome::wrong_password);
  }
  CHECK(f.begin("nobody@example.com", "10.0.0.9").retry_after_s > 0);
}

TEST_CASE("accounts shard: registrations per client address up to the allowance, then a wait; "
          "another address goes on") {
  accounts_fixture f(5, 2);
  CHECK(f.call(admit_registration{"10.0.0.1"}) == 0);
  CHECK(f.call(admit_registration{"10.0.0.1"}) == 0);
  auto wait = f.call(admit_registration{"10.0.0.1"});
  CHECK(wait > 0);
  CHECK(wait <= 60);
  CHECK(f.call(admit_registration{"10.0.0.1"}) > 0); // a refusal is not counted, still refused
  CHECK(f.call(admit_registration{"10.0.0.2"}) == 0);
  CHECK(f.call(admit_registration{"2001:db8::7"}) == 0);
}

TEST_CASE("accounts shard: logins per client address on any account up to the allowance; only "
          "wrong passwords keep their attempt; another address goes on") {
  accounts_fixture f(5, 10, 3);
  // Successes and our own failures are taken back: 6 in a row on a limit of 3.
  for (int i = 0; i < 6; ++i) {
    REQUIRE(f.call(admit_login_from{"10.0.0.1"}) == 0);
    CHECK(f.call(end_login_from{"10.0.0.1",
                                i % 2 ? login_outcome::succeeded : login_outcome::not_checked}));
  }
  // Three wrong passwords (on any accounts: the address is the key) use it up.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.call(admit_login_from{"10.0.0.1"}) == 0);
    CHECK(f.call(end_login_from{"10.0.0.1", login_outcome::wrong_password}));
  }
  auto wait = f.call(admit_login_from{"10.0.0.1"});
  CHECK(wait > 0);
  CHECK(wait <= 60);
  CHECK(f.call(admit_login_from{"10.0.0.1"}) > 0); // a refusal is not counted, still refused
  // An attempt still running counts: two admitted, not yet ended, then a wait.
  CHECK(f.call(admit_login_from{"2001:db8::7"}) == 0);
  CHECK(f.call(admit_login_from{"2001:db8::7"}) == 0);
  CHECK(f.call(admit_login_from{"2001:db8::7"}) == 0);
  CHECK(f.call(admit_login_from{"2001:db8::7"}) > 0);
  // The per-address count is its own: registrations and (address, account)
  // logins from the refused address are still admitted.
  CHECK(f.call(admit_registration{"10.0.0.1"}) == 0);
  CHECK(f.begin("carol@example.com", "10.0.0.1").retry_after_s == 0);
}

TEST_CASE("accounts shard: the same registration delivered again answers the account it made; "
          "another sign-up with that email is a conflict") {
  accounts_fixture f(3);
  register_account first{{"", "carol@example.com", "argon2-salted-1", "C", "L", "customer"}};
  auto made = f.call(first);
  REQUIRE_FALSE(made.id.empty());
  auto again = f.call(first); // the router's resend after the node died
  CHECK(again.id == made.id);
  CHECK(again.email == "carol@example.com");
  auto other = f.answer(
    register_account{{"", "carol@example.com", "argon2-salted-2", "Mallory", "L", "customer"}});
  CHECK_FALSE(other.value.has_value());
  REQUIRE(other.error.has_value());
  CHECK(*other.error == errc::conflict);
  auto no_hash = f.answer(register_account{{"", "carol@example.com", "", "C", "L", "customer"}});
  REQUIRE(no_hash.error.has_value());
  CHECK(*no_hash.error == errc::conflict);
  // The account is the first one, unchanged.
  auto found = f.call(find_account_by_email{"carol@example.com"});
  CHECK(found.id == made.id);
  CHECK(found.password_hash == "argon2-salted-1");
  CHECK(found.first_name == "C");
}
