// /api/auth/*: register, login, refresh, revoke, profile, validate.
#include "http/api_context.hpp"
#include "http/auth/password_policy.hpp"
#include "http/json_input.hpp"
#include "http/limit_refusals.hpp"
#include "http/response_helpers.hpp"

#include <chrono>

namespace emporium::http {

namespace {

bool looks_like_email(const std::string& e) {
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos)
    return false;
  auto dot = e.find('.', at + 2);
  if (dot == std::string::npos || dot + 1 >= e.size())
    return false;
  for (unsigned char c : e)
    if (c <= ' ' || c == 0x7f)
      return false;
  return true;
}

std::int64_t now_ms() {
  return now_seconds() * 1000;
}

std::int64_t refresh_expiry(const api_context& ctx) {
  return now_ms() + std::int64_t{ctx.refresh_token_days} * 86'400'000;
}

// Browsers keep the refresh token in an HttpOnly cookie, so script (and an
// XSS) never sees it. A client opts in with this header; because it is a
// custom header, a cross-site page cannot send it without a CORS preflight,
// which together with SameSite=Strict keeps the cookie from being used by
// another site (CSRF).
constexpr const char* cookie_opt_in_header = "x-session-cookie";
constexpr const char* refresh_cookie = "emporium_refresh";

/// Where a session's refresh token goes: the answer's body, or a cookie
/// (marked Secure when the client reached the node over TLS, through a
/// trusted proxy that says so: the browser then never sends it over plain
/// HTTP).
enum class refresh_delivery { in_body, in_cookie, in_secure_cookie };

refresh_delivery delivery_of(const request& req) {
  if (req.header(cookie_opt_in_header).empty())
    return refresh_delivery::in_body;
  return req.over_tls ? refresh_delivery::in_secure_cookie : refresh_delivery::in_cookie;
}

std::optional<std::string> cookie_value(const request& req, std::string_view name) {
  std::string_view all = req.header("cookie");
  while (!all.empty()) {
    auto end = all.find(';');
    auto part = all.substr(0, end);
    all = end == std::string_view::npos ? std::string_view{} : all.substr(end + 1);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return std::string{part.substr(name.size() + 1)};
  }
  return std::nullopt;
}

std::string refresh_cookie_header(const std::string& token, std::int64_t max_age_seconds,
                                  bool secure) {
  return std::string{refresh_cookie} + "=" + token +
         "; Path=/api/auth; HttpOnly; SameSite=Strict; " + (secure ? "Secure; " : "") +
         "Max-Age=" + std::to_string(max_age_seconds);
}

/// The login answer: a new access token plus `refresh` (already stored).
nlohmann::json token_answer(api_context& ctx, const user_record& user,
                            const std::string& refresh) {
  token_claims claims{user.id, user.email, user.role, now_seconds(),
                      now_seconds() + 60 * std::int64_t{ctx.access_token_minutes}};
  auto access = ctx.tokens.sign(claims);
  return nlohmann::json{{"token", access},
                        {"accessToken", access},
                        {"refreshToken", refresh},
                        {"userId", user.id},
                        {"email", user.email},
                        {"role", user.role},
                        {"expiresAt", claims.expires_at * 1000},
                        {"tokenType", "Bearer"}};
}

/// The login/refresh answer; in cookie mode the refresh token goes into the
/// cookie instead of the body.
response session_response(api_context& ctx, const user_record& user, const std::string& refresh,
                          refresh_delivery delivery) {
  auto body = token_answer(ctx, user, refresh);
  if (delivery == refresh_delivery::in_body)
    return json_response(body);
  body.erase("refreshToken");
  auto res = json_response(body);
  res.headers.emplace_back("Set-Cookie",
                           refresh_cookie_header(refresh,
                                                 std::int64_t{ctx.refresh_token_days} * 86'400,
                                                 delivery == refresh_delivery::in_secure_cookie));
  return res; // no-store, as every answer that chooses no cache policy
}

/// Stores a fresh refresh token (hashed), then answers the login shape.
void answer_with_new_session(api_context& ctx, const user_record& user,
                             refresh_delivery delivery,
                             responder respond) {
  auto refresh = new_refresh_token(user.id);
  ctx.actors.store_refresh(token_hash(refresh), user.id, refresh_expiry(ctx),
                           [&ctx, user, refresh, delivery, respond](errc ec, bool) {
                             if (ec != errc::none)
                               return respond(error_response(ec, "could not store session"));
                             respond(session_response(ctx, user, refresh, delivery));
                           });
}

/// Counts what an auth limit refused (emporium_limit_refusals_total) and
/// answers it with Retry-After: 429 for the client's own allowances, 503
/// for a hash queue every client shares, full now. `wait`: the seconds the
/// allowance named, for the limits that count over a minute.
response refused(limit which, const std::string& client, std::uint32_t wait = 0) {
  count_refusal(which, client);
  switch (which) {
  case limit::registrations_per_address:
    return retry_later(errc::rate_limited, "too many registrations; try again later", wait);
  case limit::password_checks_per_client:
    return retry_later(errc::rate_limited,
                       "too many password checks from this client in progress; try again shortly",
                       1);
  case limit::login_checks_queued:
    return retry_later(errc::unavailable, "too many logins in progress; try again shortly", 1);
  case limit::registration_checks_queued:
    return retry_later(errc::unavailable, "too many registrations in progress; try again shortly",
                       2);
  default: // logins per address, per (address, account)
    return retry_later(errc::rate_limited, "too many failed logins; try again later", wait);
  }
}

/// A registration the limits admitted: the password's strength, the hash,
/// then the account at its email's shard.
void finish_registration(api_context& ctx, const std::string& client, user_record user,
                         const std::string& password, const std::optional<std::string>& confirm,
                         responder respond) {
  if (auto weak = password_weakness(password, user.email))
    return respond(field_error("password", *weak));
  if (confirm && *confirm != password)
    return respond(field_error("confirmPassword", "does not match password"));
  auto held = ctx.limits.password_checks.hold(client); // given back when the hash is done
  if (!held)
    return respond(refused(limit::password_checks_per_client, client));
  auto queued = ctx.hasher.hash(password, [&ctx, held, user = std::move(user),
                                           respond](std::string hash) mutable {
    if (hash.empty())
      return respond(error_response(errc::internal, "could not hash the password"));
    user.password_hash = std::move(hash);
    ctx.actors.register_user(std::move(user), [respond](errc ec, user_record stored) {
      if (ec == errc::conflict)
        return respond(error_response(errc::conflict, "Email is already registered", 400));
      if (ec != errc::none)
        return respond(error_response(ec, "registration failed"));
      respond(json_response(
        {{"message", "User registered successfully"}, {"userId", stored.id}}));
    });
  });
  if (!queued)
    respond(refused(limit::registration_checks_queued, client));
}

void register_user(api_context& ctx, request& req, responder respond) {
  json_input in(req.body);
  auto email = in.text("email", true, 254);
  auto password = in.text("password", true, 1024);
  auto confirm = in.text("confirmPassword", false, 1024);
  auto first = in.text("firstName", false, 100);
  auto last = in.text("lastName", false, 100);
  auto full = in.text("fullName", false, 200);
  if (!in.ok())
    return respond(in.take_error());
  if (!looks_like_email(*email))
    return respond(field_error("email", "must be an email address"));
  // Counted before the strength estimate (up to ~7 ms of CPU on this I/O
  // thread for a hostile password) and the hash: on this node first (a
  // flood from one address stops here, without a message), then at the
  // address's shard (admit_registration), so that the nodes of a cluster
  // share one allowance.
  auto address = req.client;
  if (auto wait = ctx.limits.registrations_by_address.admit(address); wait > 0)
    return respond(refused(limit::registrations_per_address, address, wait));
  user_record user;
  // The backend draws the id (it must land on the email's shard).
  user.email = *email;
  user.first_name = first.value_or("");
  user.last_name = last.value_or("");
  if (full && user.first_name.empty() && user.last_name.empty()) {
    auto space = full->find(' ');
    user.first_name = full->substr(0, space);
    if (space != std::string::npos)
      user.last_name = full->substr(space + 1);
  }
  ctx.actors.admit_registration(
    address, [&ctx, address, user = std::move(user), password = *password, confirm,
              respond](errc ec, std::uint32_t wait) mutable {
      if (ec != errc::none)
        return respond(error_response(ec, "registration failed"));
      if (wait > 0)
        return respond(refused(limit::registrations_per_address, address, wait));
      finish_registration(ctx, address, std::move(user), password, confirm, respond);
    });
}

/// Tells each counter of a login how it ended: this node's count and the
/// address's shard (admit_login_from), and the account's shard
/// (begin_login). Anything but a wrong password takes the attempt back.
struct login_ended {
  api_context& ctx;
  std::string account;
  std::string address;

  void operator()(login_outcome outcome) const {
    address_only(outcome);
    ctx.actors.end_login(account, address, outcome, [](errc, bool) {});
  }

  /// For a login the account's shard did not count.
  void address_only(login_outcome outcome) const {
    if (outcome != login_outcome::wrong_password)
      ctx.limits.login_by_address.forgive(address);
    ctx.actors.end_login_from(address, outcome, [](errc, bool) {});
  }
};

/// How long a login of an account failing from many addresses waits
/// before its password is checked: 250 ms doubling to 8 s past the
/// threshold. A delay, never a refusal: the owner still gets in.
std::chrono::milliseconds account_delay(api_context& ctx, std::uint32_t failures) {
  if (failures < ctx.limits.account_delay_after)
    return std::chrono::milliseconds(0);
  auto steps = std::min<std::size_t>(failures - ctx.limits.account_delay_after, 5);
  return std::chrono::milliseconds(250) * (1 << steps);
}

/// A login the address's allowances admitted: the account's shard admits
/// it for (address, account) and finds the account, then the password is
/// checked. `ended` reports the outcome to every counter that counted it.
void check_login(api_context& ctx, const std::string& account, const std::string& address,
                 std::string password, refresh_delivery delivery, login_ended ended,
                 responder respond) {
  ctx.actors.begin_login(
    account, address,
    [&ctx, password = std::move(password), ended, delivery,
     respond](errc ec, login_admission admission) {
      if (ec != errc::none || admission.retry_after_s > 0) // not counted at the account's shard
        ended.address_only(login_outcome::not_checked);
      if (ec != errc::none)
        return respond(error_response(ec, "login failed"));
      if (admission.retry_after_s > 0)
        return respond(
          refused(limit::logins_per_address_account, ended.address, admission.retry_after_s));
      auto held = ctx.limits.password_checks.hold(ended.address); // until the check is done
      if (!held) {
        ended(login_outcome::not_checked);
        return respond(refused(limit::password_checks_per_client, ended.address));
      }
      // An unknown email is checked against a dummy hash: same time as a
      // wrong password, so the answer's timing names no accounts.
      auto hash = admission.found ? admission.user.password_hash : std::string{};
      bool queued = ctx.hasher.verify(
        password, hash,
        [&ctx, held, user = std::move(admission.user), ended, delivery, respond](bool ok) {
          if (!ok) {
            ended(login_outcome::wrong_password);
            return respond(error_response(errc::unauthenticated, "Invalid credentials"));
          }
          ended(login_outcome::succeeded);
          answer_with_new_session(ctx, user, delivery, respond);
        },
        account_delay(ctx, admission.recent_failures));
      if (!queued) {
        ended(login_outcome::not_checked); // our failure, not the caller's
        respond(refused(limit::login_checks_queued, ended.address));
      }
    });
}

void login(api_context& ctx, request& req, responder respond) {
  json_input in(req.body);
  auto email = in.text("email", true, 254);
  auto password = in.text("password", true, 1024);
  if (!in.ok())
    return respond(in.take_error());
  auto account = to_lower(*email);
  auto address = req.client;
  // Counted now, before the slow hash: requests already in flight count.
  // Per address on this node first (a flood from one address stops here,
  // without a message), then at the address's shard (admit_login_from: one
  // address trying many accounts through every node), then per (address,
  // account) at the account's shard (begin_login); the shards' counts are
  // shared by the nodes of a cluster.
  if (auto wait = ctx.limits.login_by_address.admit(address); wait > 0)
    return respond(refused(limit::logins_per_address, address, wait));
  login_ended ended{ctx, account, address};
  ctx.actors.admit_login_from(
    address, [&ctx, account, address, password = *password, delivery = delivery_of(req), ended,
              respond](errc ec, std::uint32_t wait) mutable {
      if (ec != errc::none || wait > 0) // not counted at the address's shard
        ctx.limits.login_by_address.forgive(address);
      if (ec != errc::none)
        return respond(error_response(ec, "login failed"));
      if (wait > 0)
        return respond(refused(limit::logins_per_address, address, wait));
      check_login(ctx, account, address, std::move(password), delivery, ended, respond);
    });
}

void refresh(api_context& ctx, request& req, responder respond) {
  auto delivery = delivery_of(req);
  auto from_cookie = delivery != refresh_delivery::in_body ? cookie_value(req, refresh_cookie)
                                                           : std::nullopt;
  // The body may be empty in cookie mode: the cookie is the credential.
  if (from_cookie && req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    req.body = "{}";
  json_input in(req.body);
  auto access = in.text("accessToken", false, 4096);
  auto refresh_token = in.text("refreshToken", !from_cookie, 512);
  if (!in.ok())
    return respond(in.take_error());
  if (!refresh_token)
    refresh_token = from_cookie;
  std::optional<token_claims> previous;
  if (access && !access->empty()) {
    previous = ctx.tokens.verify_ignoring_expiry(*access);
    if (!previous)
      return respond(error_response(errc::unauthenticated, "invalid access token"));
  }
  // Rotation: the presented token is revoked and `next` stored, atomically,
  // in the shard of the user the token names.
  auto owner = refresh_token_user(*refresh_token);
  if (owner.empty())
    return respond(error_response(errc::unauthenticated, "invalid or expired refresh token"));
  auto next = new_refresh_token(owner);
  ctx.actors.rotate_refresh(
    owner, token_hash(*refresh_token), token_hash(next), refresh_expiry(ctx),
    [&ctx, previous, owner, next, delivery, respond](errc ec, user_record user) {
      if (ec == errc::unauthenticated)
        return respond(error_response(ec, "invalid or expired refresh token"));
      if (ec != errc::none)
        return respond(error_response(ec, "refresh failed"));
      if ((previous && previous->user_id != user.id) || user.id != owner)
        return respond(error_response(errc::unauthenticated, "token pair does not match"));
      respond(session_response(ctx, user, next, delivery));
    });
}

void revoke(api_context& ctx, request& req, responder respond) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return;
  ctx.actors.revoke_refresh(claims->user_id, [respond, secure = req.over_tls](errc ec, bool) {
    if (ec != errc::none)
      return respond(error_response(ec, "revoke failed"));
    auto res = message_response("Refresh tokens revoked");
    // Logs the browser out; a Secure cookie is replaced only by a Secure one.
    res.headers.emplace_back("Set-Cookie", refresh_cookie_header("", 0, secure));
    respond(std::move(res));
  });
}

void profile(api_context& ctx, request& req, responder respond) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return;
  ctx.actors.find_user(claims->user_id, [respond](errc ec, user_record u) {
    if (ec != errc::none)
      return respond(error_response(ec, "no such user"));
    respond(json_response({{"id", u.id},
                           {"email", u.email},
                           {"userName", u.email},
                           {"firstName", u.first_name},
                           {"lastName", u.last_name},
                           {"role", u.role},
                           {"address", ""},
                           {"city", ""},
                           {"state", ""},
                           {"country", ""},
                           {"zipCode", ""}}));
  });
}

void validate(api_context& ctx, request& req, responder respond) {
  json_input in(req.body);
  auto token = in.text("accessToken", true, 4096);
  if (!in.ok())
    return respond(in.take_error());
  auto claims = ctx.tokens.verify(*token, now_seconds());
  if (!claims) {
    return respond(error_response(errc::unauthenticated, "invalid or expired token",
                                  {{"valid", false}}));
  }
  respond(json_response({{"valid", true}, {"userId", claims->user_id}, {"email", claims->email}}));
}

} // namespace

void add_auth_routes(router& r, api_context& ctx) {
  r.add("POST", "/api/auth/register", with_context(ctx, register_user));
  r.add("POST", "/api/auth/login", with_context(ctx, login));
  r.add("POST", "/api/auth/refresh", with_context(ctx, refresh));
  r.add("POST", "/api/auth/revoke", with_context(ctx, revoke));
  r.add("GET", "/api/auth/profile", with_context(ctx, profile));
  r.add("POST", "/api/auth/validate", with_context(ctx, validate));
}

} // namespace emporium::http
