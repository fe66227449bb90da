// Cart arithmetic (see cart_rules.hpp for the rules).
#include "domain/cart_rules.hpp"

#include <algorithm>

namespace emporium {

namespace {

cart_lines::iterator find_line(cart_state& cart, product_id product) {
  return std::lower_bound(cart.lines.begin(), cart.lines.end(), product,
                          [](const cart_line& l, product_id p) { return l.product < p; });
}

/// Inserts `line` before `at`, growing the vector by exactly one: a
/// resident cart is mostly a few lines, and doubling would leave a fourth
/// of a three-line cart's 56-byte lines allocated and unused in each of
/// up to hundreds of thousands of carts.
void insert_line(cart_state& cart, cart_lines::iterator at, cart_line line) {
  auto offset = at - cart.lines.begin();
  cart.lines.reserve(cart.lines.size() + 1); // exactly this many, where insert would double
  cart.lines.insert(cart.lines.begin() + offset, std::move(line));
}

} // namespace

errc cart_add(cart_state& cart, product_id product, std::int32_t delta, cents unit_price,
              const std::string& name, std::int64_t limit) {
  if (delta == 0)
    return errc::invalid_argument;
  auto it = find_line(cart, product);
  bool present = it != cart.lines.end() && it->product == product;
  if (!present) {
    if (delta < 0)
      return errc::invalid_argument;
    if (delta > max_line_quantity)
      return errc::quantity_out_of_range;
    if (delta > limit)
      return errc::insufficient_stock;
    insert_line(cart, it, cart_line{product, delta, unit_price, name});
    return errc::none;
  }
  std::int64_t next = std::int64_t{it->quantity} + delta;
  if (next > max_line_quantity)
    return errc::quantity_out_of_range;
  if (delta > 0 && next > limit)
    return errc::insufficient_stock;
  if (next <= 0)
    cart.lines.erase(it);
  else
    it->quantity = static_cast<std::int32_t>(next);
  return errc::none;
}

errc cart_set(cart_state& cart, product_id product, std::int32_t quantity, cents unit_price,
              const std::string& name, std::int64_t limit) {
  if (quantity < 0)
    return errc::invalid_argument;
  if (quantity > max_line_quantity)
    return errc::quantity_out_of_range;
  if (quantity > limit && quantity > cart_quantity(cart, product))
    return errc::insufficient_stock;
  auto it = find_line(cart, product);
  bool present = it != cart.lines.end() && it->product == product;
  if (quantity == 0) {
    if (present)
      cart.lines.erase(it);
    return errc::none;
  }
  if (present)
    it->quantity = quantity;
  else
    insert_line(cart, it, cart_line{product, quantity, unit_price, name});
  return errc::none;
}

bool cart_applied(const cart_state& cart, cart_op op) {
  return op != 0 && std::find(cart.ops.begin(), cart.ops.end(), op) != cart.ops.end();
}

namespace {

bool is_take_op(cart_op op) {
  return op < 0 && op % 2 == 0;
}

/// Order ids are positive and far below 2^61; anything else is not an order.
bool is_order_id(std::int64_t order) {
  return order > 0 && order < (std::int64_t{1} << 61);
}

void forget_op(cart_state& cart, cart_op op) {
  cart.ops.erase(std::remove(cart.ops.begin(), cart.ops.end(), op), cart.ops.end());
}

/// `line` added back, its quantity capped at max_line_quantity.
void add_back(cart_state& cart, const cart_line& line) {
  if (line.quantity <= 0)
    return;
  auto it = find_line(cart, line.product);
  if (it == cart.lines.end() || it->product != line.product) {
    auto back = line;
    back.quantity = std::min(back.quantity, max_line_quantity);
    insert_line(cart, it, std::move(back));
    return;
  }
  it->quantity = static_cast<std::int32_t>(
    std::min<std::int64_t>(std::int64_t{it->quantity} + line.quantity, max_line_quantity));
}

} // namespace

void cart_record(cart_state& cart, cart_op op) {
  if (op == 0)
    return;
  auto takes = std::count_if(cart.ops.begin(), cart.ops.end(), is_take_op);
  if (is_take_op(op) && static_cast<std::size_t>(takes) >= cart_takes_kept)
    cart.ops.erase(std::find_if(cart.ops.begin(), cart.ops.end(), is_take_op));
  while (cart.ops.size() >= cart_ops_kept) {
    auto victim = std::find_if(cart.ops.begin(), cart.ops.end(),
                               [](cart_op kept) { return !is_take_op(kept); });
    cart.ops.erase(victim == cart.ops.end() ? cart.ops.begin() : victim);
  }
  cart.ops.push_back(op);
}

cart_op order_take_op(std::int64_t order) {
  return -2 * order;
}

cart_op order_close_op(std::int64_t order) {
  return -2 * order - 1;
}

bool cart_take_for_order(cart_state& cart, std::int64_t order,
                         const std::vector<cart_line>& lines) {
  if (!is_order_id(order) || cart_applied(cart, order_close_op(order)))
    return false;
  if (cart_applied(cart, order_take_op(order)))
    return true;
  // On a copy: a short line leaves the cart as it was.
  auto after = cart;
  for (const auto& line : lines) {
    auto it = find_line(after, line.product);
    if (line.quantity <= 0 || it == after.lines.end() || it->product != line.product ||
        it->quantity < line.quantity)
      return false;
    if (it->quantity == line.quantity)
      after.lines.erase(it);
    else
      it->quantity -= line.quantity;
  }
  cart = std::move(after);
  cart_record(cart, order_take_op(order));
  return true;
}

bool cart_give_back(cart_state& cart, std::int64_t order, const std::vector<cart_line>& lines) {
  if (!is_order_id(order) || cart_applied(cart, order_close_op(order)))
    return false;
  if (cart_applied(cart, order_take_op(order))) {
    for (const auto& line : lines)
      add_back(cart, line);
    forget_op(cart, order_take_op(order));
  }
  cart_record(cart, order_close_op(order));
  return true;
}

errc cart_remove(cart_state& cart, product_id product) {
  auto it = find_line(cart, product);
  if (it == cart.lines.end() || it->product != product)
    return errc::not_found;
  cart.lines.erase(it);
  return errc::none;
}

std::int32_t cart_quantity(const cart_state& cart, product_id product) {
  for (const auto& line : cart.lines)
    if (line.product == product)
      return line.quantity;
  return 0;
}

cents cart_total(const cart_state& cart) {
  cents total = 0;
  for (const auto& line : cart.lines)
    total += line.unit_price * line.quantity;
  return total;
}

} // namespace emporium
