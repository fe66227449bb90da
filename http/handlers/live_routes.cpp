// Live order updates: the plain WebSocket at /ws (resume by sequence number)
// and the SignalR JSON hub at /notificationHub that the seed's web client
// speaks (negotiate, handshake, JoinGroup for one's own user only, pings).
#include "domain/order_rules.hpp"
#include "http/api_context.hpp"
#include "http/live/signalr_protocol.hpp"
#include "http/live/ws_protocol.hpp"
#include "http/live_hub.hpp"
#include "http/response_helpers.hpp"
#include "support/json_field.hpp"
#include "support/metrics.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace emporium::http {

namespace {

metrics::counter& resets_sent() {
  static auto& cell = metrics::default_registry().counter_of(
    "emporium_live_resets_total", "Resuming sockets told to reload: their events were pruned");
  return cell;
}

/// The event as pushed to live clients, with its sequence number.
nlohmann::json event_json(const order_event& e) {
  return {{"type", "order.status"},          {"orderId", e.order},
          {"status", status_name(e.status)}, {"reason", e.reason},
          {"at", e.at},                      {"totalAmount", cents_to_decimal(e.total)},
          {"seq", e.seq}};
}

/// Delivers a user's events in sequence order, exactly once per connection:
/// while a resume replays from the outbox, live events wait, and anything at
/// or below the last sequence sent is dropped.
class ordered_delivery {
public:
  using emit_fn = std::function<void(const order_event&)>;
  using reset_fn = std::function<void(std::int64_t resume_from)>;

  ordered_delivery(emit_fn emit, reset_fn reset)
    : emit_(std::move(emit)), reset_(std::move(reset)) {}

  void live(const order_event& row) {
    std::lock_guard guard{mutex_};
    if (replaying_)
      held_.push_back(row);
    else
      deliver(row);
  }

  /// Starts a replay of everything after `seq`; returns false if one runs.
  bool begin_replay(std::int64_t seq) {
    std::lock_guard guard{mutex_};
    if (replaying_)
      return false;
    replaying_ = true;
    last_ = seq;
    return true;
  }

  /// Delivers a page of the replay; with a reset the client reloads
  /// instead, and only events after `page.resume_from` follow. Returns the
  /// seq the next page starts after while the outbox has more (the replay
  /// goes on; live events keep waiting), else ends the replay (what waited
  /// follows) and returns nullopt.
  std::optional<std::int64_t> replay_page(const event_page& page) {
    std::lock_guard guard{mutex_};
    if (page.reset) {
      last_ = std::max(last_, page.resume_from);
      reset_(page.resume_from);
    }
    for (const auto& row : page.events)
      deliver(row);
    if (!page.reset && page.more_after > 0)
      return page.more_after;
    std::sort(held_.begin(), held_.end(), [](auto& a, auto& b) { return a.seq < b.seq; });
    for (const auto& row : held_)
      deliver(row);
    held_.clear();
    replaying_ = false;
    return std::nullopt;
  }

private:
  void deliver(const order_event& row) {
    if (row.seq <= last_)
      return;
    last_ = row.seq;
    emit_(row);
  }

  emit_fn emit_;
  reset_fn reset_;
  std::mutex mutex_;
  bool replaying_ = false;
  std::int64_t last_ = 0;
  std::vector<order_event> held_;
};

/// GET /ws: pushes {"type":"order.status",...,"seq"} for the user's orders;
/// the client sends {"resume": <last seq>} to get what it missed.
class order_updates final : public ws_endpoint,
                            public std::enable_shared_from_this<order_updates> {
public:
  order_updates(api_context& ctx, live_hub& hub, std::string user, std::shared_ptr<void> ticket)
    : ctx_(ctx), hub_(hub), user_(std::move(user)), ticket_(std::move(ticket)),
      delivery_(
        [this](const order_event& row) {
          if (sender_)
            sender_->send(json_read::dump(event_json(row)));
        },
        [this](std::int64_t resume_from) {
          resets_sent().inc();
          if (sender_)
            sender_->send(live_ws::reset_frame(resume_from));
        }) {}

  void on_open(std::shared_ptr<ws_sender> sender) override {
    sender_ = std::move(sender);
    std::weak_ptr<order_updates> weak = shared_from_this();
    subscription_ = hub_.subscribe(user_, [weak](const order_event& row) {
      if (auto self = weak.lock())
        self->delivery_.live(row);
    });
    sender_->send(live_ws::hello_frame(user_));
  }

  void on_text(const std::string& text) override {
    auto cmd = live_ws::decode(text);
    if (auto* bad = std::get_if<live_ws::invalid>(&cmd))
      return sender_->send(live_ws::error_frame(bad->message));
    if (std::holds_alternative<live_ws::ping>(cmd))
      return sender_->send(live_ws::pong_frame());
    auto seq = std::get<live_ws::resume>(cmd).after_seq;
    if (delivery_.begin_replay(seq))
      replay_after(seq);
  }

  void on_close() override {
    hub_.unsubscribe(subscription_);
  }

private:
  /// One page of the replay; the next is asked for once the socket has
  /// written this one (a user with years of orders replays at the client's
  /// pace, and a slow client is not cut off for the size of its history).
  void replay_after(std::int64_t seq) {
    std::weak_ptr<order_updates> weak = shared_from_this();
    ctx_.actors.events_since(user_, seq, [weak](errc ec, event_page page) {
      auto self = weak.lock();
      if (!self)
        return;
      if (ec != errc::none) {
        self->sender_->send(live_ws::error_frame("could not replay events"));
        page = {};
      }
      if (auto next = self->delivery_.replay_page(page))
        self->sender_->when_drained([weak, after = *next] {
          if (auto again = weak.lock())
            again->replay_after(after);
        });
    });
  }

  api_context& ctx_;
  live_hub& hub_;
  std::string user_;
  std::shared_ptr<void> ticket_; // this socket's place in its user's quota
  ordered_delivery delivery_;
  std::shared_ptr<ws_sender> sender_;
  std::uint64_t subscription_ = 0;
};

/// The SignalR JSON hub (protocol in http/live/signalr_protocol.hpp); this
/// class only carries out what the protocol decides: send, subscribe, close.
class signalr_hub final : public ws_endpoint, public std::enable_shared_from_this<signalr_hub> {
public:
  signalr_hub(live_hub& hub, std::string user, std::shared_ptr<void> ticket)
    : hub_(hub), user_(std::move(user)), ticket_(std::move(ticket)) {}

  void on_open(std::shared_ptr<ws_sender> sender) override { sender_ = std::move(sender); }

  void on_text(const std::string& text) override {
    auto out = signalr::on_message(conn_, text, user_);
    for (auto& frame : out.frames)
      sender_->send(std::move(frame));
    if (out.change == signalr::subscription::join)
      join();
    else if (out.change == signalr::subscription::leave)
      leave();
    if (out.close)
      sender_->close();
  }

  void on_close() override {
    leave();
  }

  std::optional<std::string> keepalive() const override {
    return signalr::ping_frame();
  }

private:
  void join() {
    std::lock_guard guard{mutex_};
    if (subscription_ != 0)
      return;
    std::weak_ptr<signalr_hub> weak = shared_from_this();
    subscription_ = hub_.subscribe(user_, [weak](const order_event& row) {
      auto self = weak.lock();
      if (!self)
        return;
      auto e = event_json(row);
      e["seedStatus"] = seed_status_name(row.status);
      e["message"] = "Order " + std::to_string(row.order) + " is " + status_name(row.status);
      nlohmann::json message{
        {"type", 1}, {"target", "ReceiveOrderNotification"}, {"arguments", {e}}};
      self->sender_->send(json_read::dump(message) + signalr::record_separator);
    });
  }

  void leave() {
    std::lock_guard guard{mutex_};
    if (subscription_ != 0)
      hub_.unsubscribe(subscription_);
    subscription_ = 0;
  }

  live_hub& hub_;
  std::string user_;
  std::shared_ptr<void> ticket_; // this socket's place in its user's quota
  std::shared_ptr<ws_sender> sender_;
  signalr::connection conn_;
  std::mutex mutex_;
  std::uint64_t subscription_ = 0;
};

} // namespace

void add_live_routes(router& r, api_context& ctx) {
  auto negotiate = [&ctx](request& req, responder respond) {
    auto token = random_token(16);
    respond(json_response(
      {{"negotiateVersion", 1},
       {"connectionId", token},
       {"connectionToken", token},
       {"availableTransports",
        {{{"transport", "WebSockets"}, {"transferFormats", {"Text", "Binary"}}}}}}));
    (void)req;
    (void)ctx;
  };
  r.add("POST", "/notificationHub/negotiate", negotiate);
  auto upgrade_required = [](request&, responder respond) {
    auto res = error_response(errc::invalid_argument, "this endpoint speaks WebSocket", 426);
    res.headers.emplace_back("Upgrade", "websocket");
    respond(std::move(res));
  };
  r.add("GET", "/ws", upgrade_required);
  r.add("GET", "/notificationHub", upgrade_required);
}

/// Open live sockets per user: a ticket per socket, returned when the
/// endpoint is destroyed (however the connection ended).
class socket_quota : public std::enable_shared_from_this<socket_quota> {
public:
  explicit socket_quota(unsigned max) : max_(max) {}

  std::shared_ptr<void> take(const std::string& user) {
    std::lock_guard guard{mutex_};
    auto& n = open_[user];
    if (n >= max_)
      return nullptr;
    ++n;
    return std::make_shared<ticket>(shared_from_this(), user);
  }

private:
  struct ticket {
    ticket(std::shared_ptr<socket_quota> q, std::string u) : quota(std::move(q)), user(std::move(u)) {}
    ~ticket() { quota->give_back(user); }
    std::shared_ptr<socket_quota> quota;
    std::string user;
  };

  void give_back(const std::string& user) {
    std::lock_guard guard{mutex_};
    auto it = open_.find(user);
    if (it != open_.end() && --it->second == 0)
      open_.erase(it);
  }
  unsigned max_;
  std::mutex mutex_;
  std::unordered_map<std::string, unsigned> open_;
};

ws_factory make_live_endpoints(api_context& ctx, live_hub& hub, unsigned max_sockets_per_user) {
  auto quota = std::make_shared<socket_quota>(max_sockets_per_user);
  return [&ctx, &hub, quota](request& req) -> ws_decision {
    auto path = to_lower(req.path);
    if (path != "/ws" && path != "/notificationhub")
      return error_response(errc::not_found, "no WebSocket endpoint at " + req.path);
    std::optional<token_claims> claims;
    response refused;
    responder capture = [&refused](response res) { refused = std::move(res); };
    claims = authenticate(ctx, req, capture);
    if (!claims)
      return refused;
    auto ticket = quota->take(claims->user_id);
    if (!ticket) {
      auto res = error_response(errc::rate_limited, "too many live connections for this user");
      res.headers.emplace_back("Retry-After", "5");
      return res;
    }
    if (path == "/ws")
      return std::make_shared<order_updates>(ctx, hub, claims->user_id, std::move(ticket));
    return std::make_shared<signalr_hub>(hub, claims->user_id, std::move(ticket));
  };
}

} // namespace emporium::http
