// /api/cart: the seed's calls plus REST-shaped item calls, backed by the
// cart actors. The user always comes from the token; a different userId in
// the path or body is 403 (the seed trusted it).
#include "http/api_context.hpp"
#include "http/json_input.hpp"
#include "http/response_helpers.hpp"

#include <fmt/format.h>

namespace emporium::http {

namespace {

nlohmann::json cart_json(const std::string& user, const cart_view& v) {
  auto items = nlohmann::json::array();
  for (const auto& l : v.lines)
    items.push_back({{"productId", l.product},
                     {"quantity", l.quantity},
                     {"priceAtAddition", cents_to_decimal(l.unit_price)},
                     {"productName", l.name.str()},
                     {"lineTotal", cents_to_decimal(l.unit_price * l.quantity)}});
  return {{"userId", user}, {"items", std::move(items)}, {"totalPrice", cents_to_decimal(v.total)}};
}

/// Answers a cart operation: the cart, or the mapped error (409 with the
/// available quantity when the cart would hold more than the stock).
done_fn<cart_view> answer_cart(std::string user, responder respond, std::string message = {},
                               std::int64_t available = -1) {
  return [user = std::move(user), respond, message, available](errc ec, cart_view v) {
    if (ec == errc::insufficient_stock) {
      return respond(error_response(ec, fmt::format("only {} in stock", available),
                                    {{"available", available}}));
    }
    if (ec == errc::not_found)
      return respond(error_response(ec, "that product is not in the cart"));
    // The edge has checked the numbers alone; these depend on the cart.
    if (ec == errc::invalid_argument)
      return respond(error_response(ec, "that product is not in the cart: there are no units to "
                                        "take away"));
    if (ec == errc::quantity_out_of_range)
      return respond(error_response(ec, fmt::format("a cart line holds at most {} units",
                                                    max_line_quantity)));
    if (ec != errc::none)
      return respond(error_response(ec, "cart operation failed"));
    auto body = cart_json(user, v);
    if (!message.empty())
      body["message"] = message;
    respond(json_response(body));
  };
}

/// The caller's user id, after checking a userId given in path or body.
std::optional<std::string> cart_owner(api_context& ctx, const request& req,
                                      responder& respond,
                                      const std::optional<std::string>& claimed) {
  auto claims = authenticate(ctx, req, respond);
  if (!claims)
    return std::nullopt;
  if (claimed && !claimed->empty() && *claimed != claims->user_id) {
    respond(error_response(errc::forbidden, "you can only use your own cart"));
    return std::nullopt;
  }
  return claims->user_id;
}

/// The userId of /api/cart/{userId}; none for /api/cart.
std::optional<std::string> user_in_path(const request& req) {
  if (req.params.empty())
    return std::nullopt;
  return req.params[0];
}

void get_cart(api_context& ctx, request& req, responder respond) {
  auto user = cart_owner(ctx, req, respond, user_in_path(req));
  if (!user)
    return;
  ctx.actors.cart(*user, {}, answer_cart(*user, respond));
}

void clear_cart(api_context& ctx, request& req, responder respond) {
  auto user = cart_owner(ctx, req, respond, user_in_path(req));
  if (!user)
    return;
  ctx.actors.cart(*user, {cart_command::op::clear, 0, 0, 0, {}, 0}, answer_cart(*user, respond, "Cart cleared"));
}

/// Looks the product up in the read model: 400 when it does not exist.
const catalog_item* cart_product(const catalog_snapshot& snap, std::int64_t id,
                                 responder& respond) {
  auto item = snap.find(id);
  if (item == nullptr)
    respond(field_error("productId", fmt::format("product {} does not exist", id)));
  return item;
}

void add_item(api_context& ctx, request& req, responder respond) {
  json_input in(req.body);
  auto claimed = in.text("userId", false, 128);
  auto product = in.integer("productId", true, 1, std::int64_t{1} << 53);
  auto quantity = in.integer("quantity", true, -max_line_quantity, max_line_quantity);
  if (in.ok() && quantity && *quantity == 0)
    return respond(field_error("quantity", "must not be 0"));
  if (!in.ok()) {
    // Authentication first: an anonymous caller learns nothing about fields.
    if (!authenticate(ctx, req, respond))
      return;
    return respond(in.take_error());
  }
  auto user = cart_owner(ctx, req, respond, claimed);
  if (!user)
    return;
  auto snap = ctx.catalog.snapshot();
  auto item = cart_product(*snap, *product, respond);
  if (!item)
    return;
  cart_command cmd{cart_command::op::add, item->product.id, static_cast<std::int32_t>(*quantity),
                   item->product.price, item->product.name, item->stock};
  ctx.actors.cart(*user, cmd, answer_cart(*user, respond, "Item added to cart", item->stock));
}

/// The {productId} of /api/cart/items/{productId}; 400 answered otherwise.
std::optional<product_id> path_product(const request& req, responder& respond) {
  auto id = parse_positive_id(req.params.at(0));
  if (!id)
    respond(field_error("productId", "must be a positive integer"));
  return id;
}

void set_item(api_context& ctx, request& req, responder respond) {
  auto user = cart_owner(ctx, req, respond, std::nullopt);
  if (!user)
    return;
  auto id = path_product(req, respond);
  if (!id)
    return;
  json_input in(req.body);
  auto quantity = in.integer("quantity", true, 0, max_line_quantity);
  if (!in.ok())
    return respond(in.take_error());
  auto snap = ctx.catalog.snapshot();
  auto item = cart_product(*snap, *id, respond);
  if (!item)
    return;
  cart_command cmd{cart_command::op::set, *id, static_cast<std::int32_t>(*quantity),
                   item->product.price, item->product.name, item->stock};
  ctx.actors.cart(*user, cmd, answer_cart(*user, respond, "Cart updated", item->stock));
}

void remove_item(api_context& ctx, request& req, responder respond) {
  auto user = cart_owner(ctx, req, respond, std::nullopt);
  if (!user)
    return;
  auto id = path_product(req, respond);
  if (!id)
    return;
  cart_command cmd{cart_command::op::remove, *id, 0, 0, {}, 0};
  ctx.actors.cart(*user, cmd, answer_cart(*user, respond, "Item removed"));
}

} // namespace

void add_cart_routes(router& r, api_context& ctx) {
  r.add("GET", "/api/cart", with_context(ctx, get_cart));
  r.add("DELETE", "/api/cart", with_context(ctx, clear_cart));
  r.add("POST", "/api/cart/add", with_context(ctx, add_item));
  r.add("PUT", "/api/cart/items/{productId}", with_context(ctx, set_item));
  r.add("DELETE", "/api/cart/items/{productId}", with_context(ctx, remove_item));
  r.add("GET", "/api/cart/{userId}", with_context(ctx, get_cart));
  r.add("DELETE", "/api/cart/{userId}", with_context(ctx, clear_cart));
}

} // namespace emporium::http
