// The CAF side of the edge (see actor_backend.hpp).
#include "http/actor_backend.hpp"
#include "http/call_deadlines.hpp"

#include "actors/protocol.hpp"
#include "support/log.hpp"
#include "support/trace.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <random>
#include <vector>

namespace emporium::http {

namespace {

/// A bridge's calls waiting for an answer (see call_deadlines.hpp).
struct bridge_state {
  call_deadlines<caf::message_id> calls;
  std::chrono::milliseconds timeout{0};
  bool timer_set = false;
  static inline const char* name = "edge_bridge";
};

using bridge_actor = caf::stateful_actor<bridge_state>;
using job = std::function<void(bridge_actor*)>;

} // namespace
} // namespace emporium::http

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::http::job)

namespace emporium::http {

namespace {

/// Runs edge code on a bridge. The bridges are few and long-lived: an
/// exception from a handler's continuation must not end one (every later
/// request routed to it would be lost), so it is logged and swallowed; the
/// handler's unanswered responder then answers 500 when it is dropped.
template <class Fn>
void shielded(Fn&& fn) noexcept {
  log::shielded("backend_callback_threw", std::forward<Fn>(fn));
}

/// A new id for one cart change or stock adjustment (cart_rules.hpp,
/// stock_rules.hpp): random, so ids from every I/O thread of every node
/// never meet; positive and never 0.
std::int64_t new_operation_id() {
  thread_local std::mt19937_64 draw{std::random_device{}()};
  return static_cast<std::int64_t>(draw() >> 2) | 1;
}

/// Sets the bridge's one timer for its oldest deadline, unless set.
void arm_timer(bridge_actor* self) {
  auto& st = self->state;
  auto next = st.calls.next_deadline();
  if (st.timer_set || !next)
    return;
  st.timer_set = true;
  auto wait = std::max<caf::actor_clock::duration_type>(*next - self->clock().now(),
                                                         std::chrono::milliseconds{1});
  self->delayed_send(self, wait, atoms::tick::value);
}

/// The calls past their deadline get the error CAF's own request timeout
/// delivers, the same way (a message to this bridge answering the request):
/// the call's error handler runs, and CAF forgets the call, so an answer
/// that comes later is dropped.
void expire_calls(bridge_actor* self) {
  self->state.timer_set = false;
  for (auto id : self->state.calls.expire(self->clock().now()))
    self->enqueue(nullptr, id, caf::make_message(caf::make_error(caf::sec::request_timeout)),
                  self->context());
  arm_timer(self);
}

caf::behavior bridge(bridge_actor* self, std::chrono::milliseconds timeout) {
  self->state.timeout = timeout;
  return {
    [self](job& fn) { shielded([&] { fn(self); }); },
    [self](atoms::tick) { expire_calls(self); },
  };
}

class actor_backend final : public backend {
public:
  actor_backend(caf::actor_system& sys, backend_actors actors,
                std::chrono::milliseconds timeout, unsigned bridges)
    : router_(std::move(actors.router)),
      catalog_(std::move(actors.catalog)),
      payment_(std::move(actors.payment)),
      cluster_(std::move(actors.cluster)) {
    for (unsigned i = 0; i < std::max(1u, bridges); ++i)
      bridges_.push_back(sys.spawn(bridge, timeout));
  }

  ~actor_backend() override {
    for (auto& b : bridges_)
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  }

  void cart(const std::string& user, cart_command c, done_fn<cart_view> done) override {
    entity_key key{entity_kind::cart, user};
    using op = cart_command::op;
    switch (c.what) {
      case op::get: return entity(key, std::move(done), get_cart{});
      // Each change gets an id, so a resend after a node failure applies once.
      case op::add:
        return entity(key, std::move(done), add_to_cart{c.product, c.quantity, c.price, c.name,
                                                        c.limit, new_operation_id()});
      case op::set:
        return entity(key, std::move(done), set_cart_line{c.product, c.quantity, c.price, c.name,
                                                          c.limit, new_operation_id()});
      case op::remove:
        return entity(key, std::move(done), remove_from_cart{c.product, new_operation_id()});
      case op::clear: return entity(key, std::move(done), clear_cart{new_operation_id()});
    }
  }

  void stock(product_id product, stock_command c, done_fn<stock_view> done) override {
    entity_key key{entity_kind::stock, std::to_string(product)};
    using op = stock_command::op;
    switch (c.what) {
      case op::get: return entity(key, std::move(done), get_stock{});
      case op::set: return entity(key, std::move(done), set_stock{c.value});
      case op::adjust:
        return entity(key, std::move(done),
                      adjust_stock{c.value, c.id != 0 ? c.id : new_operation_id()});
    }
  }

  // Accounts live in shards: by email for a lookup by email, by user id
  // otherwise (the accounts actor draws ids that land on their email's
  // shard). The router turns the key into the shard.
  void register_user(user_record user, done_fn<user_record> done) override {
    auto email = user.email;
    accounts(by_email(email), std::move(done), register_account{std::move(user)});
  }
  void begin_login(const std::string& email, const std::string& address,
                   done_fn<login_admission> done) override {
    accounts(by_email(email), std::move(done), emporium::begin_login{email, address});
  }
  void admit_registration(const std::string& address, done_fn<std::uint32_t> done) override {
    accounts(by_address(address), std::move(done), emporium::admit_registration{address});
  }
  void admit_login_from(const std::string& address, done_fn<std::uint32_t> done) override {
    accounts(by_address(address), std::move(done), emporium::admit_login_from{address});
  }
  void end_login_from(const std::string& address, login_outcome outcome,
                      done_fn<bool> done) override {
    accounts(by_address(address), std::move(done), emporium::end_login_from{address, outcome});
  }
  void end_login(const std::string& email, const std::string& address, login_outcome outcome,
                 done_fn<bool> done) override {
    accounts(by_email(email), std::move(done), emporium::end_login{email, address, outcome});
  }
  void find_user(const std::string& id, done_fn<user_record> done) override {
    accounts(by_user(id), std::move(done), find_account_by_id{id});
  }
  void store_refresh(const std::string& hash, const std::string& user, std::int64_t expires,
                     done_fn<bool> done) override {
    accounts(by_user(user), std::move(done),
             store_refresh_token{hash, user, expires});
  }
  void rotate_refresh(const std::string& user, const std::string& old_hash,
                      const std::string& new_hash, std::int64_t expires,
                      done_fn<user_record> done) override {
    accounts(by_user(user), std::move(done),
             rotate_refresh_token{old_hash, new_hash, expires});
  }
  void revoke_refresh(const std::string& user, done_fn<bool> done) override {
    accounts(by_user(user), std::move(done), revoke_refresh_tokens{user});
  }

  void create_product(product_record p, done_fn<product_record> done) override {
    ask(catalog_, std::move(done), emporium::create_product{std::move(p)});
  }
  void update_product(product_record p, done_fn<product_record> done) override {
    ask(catalog_, std::move(done), emporium::update_product{std::move(p)});
  }
  void delete_product(std::int64_t id, done_fn<bool> done) override {
    ask(catalog_, std::move(done), emporium::delete_product{id});
  }

  void place_order(const std::string& user, const std::string& key, const std::string& hash,
                   std::optional<order_state> draft, const std::string& answer,
                   done_fn<std::string> done) override {
    emporium::place_order req{user, key, hash, !draft, draft.value_or(order_state{}), answer};
    index(by_user(user), std::move(done), std::move(req));
  }
  void order_history(const std::string& user,
                     done_fn<std::vector<order_state>> done) override {
    index(by_user(user), std::move(done), emporium::order_history{user});
  }
  void find_order(std::int64_t id, done_fn<found_order> done) override {
    index(by_order(id), std::move(done), emporium::find_order{id});
  }
  void cancel_order(std::int64_t id, done_fn<order_state> done) override {
    entity({entity_kind::order, std::to_string(id)}, std::move(done), emporium::cancel_order{});
  }

  void check_order_payment(std::int64_t id, done_fn<order_state> done) override {
    entity({entity_kind::order, std::to_string(id)}, std::move(done),
           emporium::check_order_payment{});
  }
  void payment_notice(std::int64_t id, emporium::payment_notice n,
                      done_fn<std::string> done) override {
    entity({entity_kind::order, std::to_string(id)}, std::move(done), std::move(n));
  }
  void events_since(const std::string& user, std::int64_t seq,
                    done_fn<event_page> done) override {
    index(by_user(user), std::move(done), events_after{user, seq});
  }

  bool ready() const override {
    if (!router_ || !catalog_ || bridges_.empty())
      return false;
    // Ready once every shard this node owns is open (a hand-off in progress
    // makes it briefly not ready; a node without quorum owns none).
    return !cluster_ || cluster_->ready_shards.load() >= cluster_->owned_shards.load();
  }

  cluster_info cluster() const override {
    if (!cluster_)
      return {};
    return {cluster_->quorum.load(), cluster_->live_members.load(),
            cluster_->owned_shards.load(), cluster_->ready_shards.load()};
  }

  void cluster_status(const std::string& locate_user, done_fn<cluster_view> done) override {
    call_span call{trace::current(), trace::follow(trace::current()), trace::now_ns(),
                   "cluster_status"};
    if (!locate_user.empty())
      return ask_message<cluster_view>(router_, std::move(done), call, atoms::status::value,
                                       locate_user);
    ask_message<cluster_view>(router_, std::move(done), call, atoms::status::value);
  }

  void node_stats(done_fn<std::vector<emporium::node_stats>> done) override {
    call_span call{trace::current(), trace::follow(trace::current()), trace::now_ns(),
                   "node_stats"};
    ask_message<std::vector<emporium::node_stats>>(router_, std::move(done), call,
                                                   atoms::stats::value);
  }

  std::string payment_breaker() const override {
    if (!payment_)
      return "closed";
    switch (payment_->breaker.load()) {
      case 1: return "open";
      case 2: return "half_open";
      default: return "closed";
    }
  }

private:
  void post(job fn) {
    auto i = next_.fetch_add(1, std::memory_order_relaxed) % bridges_.size();
    caf::anon_send(bridges_[i], std::move(fn));
  }

  /// One actor call of a request: a client span under the request's span
  /// (trace::current() on the calling thread), recorded when the answer
  /// comes; the answer is handled inside the request's trace again, so a
  /// call made from it joins the same trace.
  struct call_span {
    trace::context request, self;
    std::int64_t started = 0;
    const char* name = "";

    template <class Request>
    static call_span of(Request& req) {
      call_span c{trace::current(), trace::follow(trace::current()), trace::now_ns(),
                  caf::type_name<Request>::value};
      if constexpr (requires { req.trace; })
        req.trace = c.self; // the work it causes joins this span
      return c;
    }

    void finish(errc result) const {
      trace::record(self, request.span, name, trace::span_kind::client, started,
                    {{"rpc.result", std::string{to_string(result)}}},
                    result == errc::internal || result == errc::storage_failure ||
                      result == errc::timeout || result == errc::unavailable ||
                      result == errc::overloaded);
    }
  };

  /// Hands the answer to `done` within the request's trace.
  template <class T>
  static void answer(const call_span& call, const done_fn<T>& done, errc result, T value) {
    call.finish(result);
    trace::scope in_request{call.request};
    shielded([&] { done(result, std::move(value)); });
  }

  /// A request whose struct names its reply: `done` takes that type, and a
  /// typed handle checks at compile time that the actor accepts it.
  template <class Handle, class Request>
  void ask(const Handle& target, done_fn<typename Request::reply> done, Request req) {
    auto span = call_span::of(req);
    post([=, done = std::move(done)](bridge_actor* self) mutable {
      ask_with_deadline<typename Request::reply>(self, target, span, std::move(done), req);
    });
  }

  /// A message spelled as its elements, to the router: its envelopes
  /// (entity, shard, accounts) carry the typed requests of the helpers below.
  template <class T, class... Ts>
  void ask_message(const caf::actor& target, done_fn<T> done, call_span span, Ts... xs) {
    post([=, done = std::move(done)](bridge_actor* self) mutable {
      ask_with_deadline<T>(self, target, span, std::move(done), xs...);
    });
  }

  /// A request without CAF's timeout, given up by the bridge's own deadline
  /// instead (bridge_state); its answer or error goes to `done`.
  template <class T, class Handle, class... Ts>
  static void ask_with_deadline(bridge_actor* self, const Handle& target, const call_span& span,
                                done_fn<T> done, const Ts&... xs) {
    auto handle = self->request(target, caf::infinite, xs...);
    auto n = self->state.calls.add(handle.id(), self->clock().now() + self->state.timeout);
    arm_timer(self);
    // One callback for both handlers, never copied: a copy of a handler's
    // continuation copies all it holds (the responder, strings, the
    // session's own callbacks; measured: ~190 allocations per order).
    auto once = std::make_shared<const done_fn<T>>(std::move(done));
    handle.then(
      [self, n, span, once](T& value) {
        self->state.calls.answered(n);
        answer(span, *once, errc::none, std::move(value));
      },
      [self, n, span, once](caf::error& err) {
        self->state.calls.answered(n);
        answer(span, *once, to_errc(err), T{});
      });
  }

  /// A request to an entity goes through the router, never to a handle.
  template <class Request>
  void entity(entity_key key, done_fn<typename Request::reply> done, Request req) {
    auto call = call_span::of(req);
    ask_message<typename Request::reply>(router_, std::move(done), call, std::move(key),
                                         caf::make_message(std::move(req)));
  }

  static shard_key by_user(const std::string& user) { return {shard_key::by::user, user}; }
  static shard_key by_email(const std::string& email) { return {shard_key::by::email, email}; }
  static shard_key by_address(const std::string& address) {
    return {shard_key::by::address, address};
  }
  static shard_key by_order(std::int64_t id) {
    return {shard_key::by::order, std::to_string(id)};
  }

  /// A request to the accounts of the key's shard, wherever that shard lives.
  template <class Request>
  void accounts(shard_key key, done_fn<typename Request::reply> done, Request req) {
    auto call = call_span::of(req);
    ask_message<typename Request::reply>(router_, std::move(done), call,
                                         atoms::accounts_call::value,
                                         std::move(key), caf::make_message(std::move(req)));
  }

  /// A request to the order index of the key's shard, wherever it lives.
  template <class Request>
  void index(shard_key key, done_fn<typename Request::reply> done, Request req) {
    auto call = call_span::of(req);
    ask_message<typename Request::reply>(router_, std::move(done), call, atoms::shard_call::value,
                                         std::move(key), caf::make_message(std::move(req)));
  }

  caf::actor router_;
  catalog_actor catalog_;
  std::shared_ptr<const payment_health> payment_;
  std::shared_ptr<const cluster_health> cluster_;
  std::vector<caf::actor> bridges_;
  std::atomic<std::size_t> next_{0};
};

} // namespace

std::unique_ptr<backend> make_actor_backend(caf::actor_system& sys, backend_actors actors,
                                            std::chrono::milliseconds timeout,
                                            unsigned bridges) {
  return std::make_unique<actor_backend>(sys, std::move(actors), timeout, bridges);
}

} // namespace emporium::http
