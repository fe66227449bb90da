// /api/orders: place (idempotent with Idempotency-Key), history, one order,
// cancel, and the check after the buyer's browser ran a card's 3-D Secure.
// Placement answers once the order is durably accepted; the saga then runs
// on its own and reports through the live update channels.
#include "http/api_context.hpp"
#include "http/json_input.hpp"
#include "http/limit_refusals.hpp"
#include "http/response_helpers.hpp"

#include <ctime>
#include <fmt/format.h>

namespace emporium::http {

namespace {

std::string iso8601(millis at) {
  std::time_t secs = static_cast<std::time_t>(at / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(at % 1000));
}

/// The seed's order shape plus Emporium's exact status, reason and timeline.
nlohmann::json order_json(const order_state& o) {
  auto items = nlohmann::json::array();
  for (const auto& l : o.lines)
    items.push_back({{"productId", l.product},
                     {"quantity", l.quantity},
                     {"unitPrice", cents_to_decimal(l.unit_price)},
                     {"productName", l.name}});
  auto timeline = nlohmann::json::array();
  for (const auto& t : o.timeline)
    timeline.push_back({{"status", status_name(t.status)},
                        {"reason", t.reason},
                        {"at", iso8601(t.at)}});
  nlohmann::json out = {{"id", o.id},
          {"userId", o.user},
          {"orderDate", iso8601(o.placed_at)},
          {"totalAmount", cents_to_decimal(o.total)},
          {"status", seed_status_name(o.status)},
          {"state", status_name(o.status)},
          {"reason", o.reason},
          {"paymentMethodId", o.payment_method},
          {"items", std::move(items)},
          {"timeline", std::move(timeline)}};
  // Money the provider reports given back (a refund made in its dashboard).
  if (o.refunded > 0)
    out["refundedAmount"] = cents_to_decimal(o.refunded);
  // Only its owner ever gets an order: what their browser needs to run the
  // card's authentication (Stripe.js's handleNextAction).
  if (o.status == order_status::authentication_required && !o.payment_action.empty())
    out["paymentAction"] = {{"type", "authenticate"}, {"clientSecret", o.payment_action}};
  return out;
}

/// Answers a placement: the stored answer, 409 for a reused key, 503 when
/// the order's node holds as many orders in progress as it takes, or the
/// error.
done_fn<std::string> answer_placement(responder respond, std::string client) {
  return [respond, client = std::move(client)](errc ec, std::string stored) {
    if (ec == errc::conflict)
      return respond(error_response(ec, "Idempotency-Key was used with a different request"));
    if (ec == errc::overloaded) {
      count_refusal(limit::orders_in_progress, client);
      return respond(retry_later(ec, "the shop is taking as many orders as it can; nothing "
                                     "was placed, try again in a moment", 1));
    }
    if (ec != errc::none)
      return respond(error_response(ec, "could not place the order"));
    response res;
    res.body = std::move(stored);
    respond(std::move(res));
  };
}

/// Builds the order from the cart with the catalog's current prices.
void place_from_cart(api_context& ctx, const std::string& user, const std::string& method,
                     const std::string& key, const std::string& hash, const std::string& client,
                     responder respond) {
  ctx.actors.cart(user, {}, [&ctx, user, method, key, hash, client, respond](errc ec,
                                                                            cart_view cart) {
    if (ec != errc::none)
      return respond(error_response(ec, "could not read the cart"));
    if (cart.lines.empty())
      return respond(error_response(errc::invalid_argument, "Cart is empty"));
    auto snap = ctx.catalog.snapshot();
    order_state draft;
    draft.user = user;
    draft.payment_method = method;
    auto changes = nlohmann::json::array();
    for (const auto& l : cart.lines) {
      auto item = snap->find(l.product);
      if (item == nullptr)
        return respond(error_response(
          errc::invalid_argument, fmt::format("product {} ({}) is no longer sold", l.product, l.name.str())));
      if (item->product.price != l.unit_price)
        changes.push_back({{"productId", l.product},
                           {"priceAtAddition", cents_to_decimal(l.unit_price)},
                           {"price", cents_to_decimal(item->product.price)}});
      draft.lines.push_back({l.product, l.quantity, item->product.price, item->product.name});
    }
    draft.total = order_total(draft.lines);
    if (draft.total > max_order_total) // beyond it a total no longer reads back exactly
      return respond(error_response(
        errc::invalid_argument,
        fmt::format("an order totals at most {:.2f}", cents_to_decimal(max_order_total))));
    nlohmann::json answer{{"message", changes.empty() ? "Order placed"
                                                      : "Order placed; some prices changed"},
                          {"status", status_name(order_status::submitted)},
                          {"seedStatus", seed_status_name(order_status::submitted)},
                          {"totalAmount", cents_to_decimal(draft.total)},
                          {"priceChanges", changes}};
    ctx.actors.place_order(user, key, hash, std::move(draft), answer.dump(),
                           answer_placement(respond, client));
  });
}

void place(api_context& ctx, request& req, responder respond) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return;
  json_input in(req.body);
  auto method = in.text("paymentMethodId", true, 100);
  if (!in.ok())
    return respond(in.take_error());
  auto key = req.header("idempotency-key");
  if (key.size() > 200)
    return respond(field_error("Idempotency-Key", "is longer than 200 characters"));
  auto hash = token_hash("paymentMethodId=" + *method);
  auto user = claims->user_id;
  if (key.empty())
    return place_from_cart(ctx, user, *method, key, hash, req.client, respond);
  // A retried key answers the original response, even once the cart is gone.
  ctx.actors.place_order(
    user, key, hash, std::nullopt, "",
    [&ctx, user, method = *method, key, hash, client = req.client, respond](errc ec,
                                                                           std::string stored) {
      if (ec == errc::not_found)
        return place_from_cart(ctx, user, method, key, hash, client, respond);
      answer_placement(respond, client)(ec, std::move(stored));
    });
}

void history(api_context& ctx, request& req, responder respond) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return;
  ctx.actors.order_history(claims->user_id, [respond](errc ec, std::vector<order_state> orders) {
    if (ec != errc::none)
      return respond(error_response(ec, "could not read the order history"));
    auto out = nlohmann::json::array();
    for (const auto& o : orders)
      out.push_back(order_json(o));
    respond(json_response(out));
  });
}

/// Finds an order the caller owns, then calls `then(order)`.
void with_own_order(api_context& ctx, request& req, responder respond,
                    std::function<void(const order_state&, responder)> then) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return;
  auto id = parse_positive_id(req.params.at(0));
  if (!id)
    return respond(field_error("id", "must be a positive integer"));
  ctx.actors.find_order(*id, [user = claims->user_id, respond, then, id = *id](
                               errc ec, found_order found) {
    if (ec == errc::not_found)
      return respond(error_response(ec, fmt::format("Order {} not found", id)));
    if (ec != errc::none)
      return respond(error_response(ec, "could not read the order"));
    if (found.user != user)
      return respond(error_response(errc::forbidden, "that order belongs to another user"));
    then(found.order, respond);
  });
}

void get_order(api_context& ctx, request& req, responder respond) {
  with_own_order(ctx, req, std::move(respond), [](const order_state& o, responder respond) {
    respond(json_response(order_json(o)));
  });
}

void cancel(api_context& ctx, request& req, responder respond) {
  with_own_order(ctx, req, std::move(respond), [&ctx](const order_state& o, responder respond) {
    ctx.actors.cancel_order(o.id, [respond](errc ec, order_state order) {
      if (ec == errc::conflict)
        return respond(error_response(ec, "the order is already confirmed"));
      if (ec != errc::none)
        return respond(error_response(ec, "could not cancel the order"));
      respond(json_response(order_json(order)));
    });
  });
}

/// After the buyer's browser ran the authentication: the saga asks the
/// provider and answers the order as it now stands (Confirmed on its way,
/// Cancelled, or still waiting).
void check_payment(api_context& ctx, request& req, responder respond) {
  with_own_order(ctx, req, std::move(respond), [&ctx](const order_state& o, responder respond) {
    ctx.actors.check_order_payment(o.id, [respond](errc ec, order_state order) {
      if (ec != errc::none)
        return respond(error_response(ec, "could not check the payment"));
      respond(json_response(order_json(order)));
    });
  });
}

} // namespace

void add_order_routes(router& r, api_context& ctx) {
  r.add("POST", "/api/orders/place", with_context(ctx, place));
  r.add("GET", "/api/orders/history", with_context(ctx, history));
  r.add("GET", "/api/orders/{id}", with_context(ctx, get_order));
  r.add("POST", "/api/orders/{id}/cancel", with_context(ctx, cancel));
  r.add("POST", "/api/orders/{id}/payment/check", with_context(ctx, check_payment));
}

} // namespace emporium::http
