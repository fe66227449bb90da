// Cart arithmetic (see cart_rules.hpp for the rules).
#include "domain/cart_rules.hpp"

#include <algorithm>

namespace emporium {

namespace {

std::vector<cart_line>::iterator find_line(cart_state& cart, product_id product) {
  return std::lower_bound(cart.lines.begin(), cart.lines.end(), product,
                          [](const cart_line& l, product_id p) { return l.product < p; });
}

/// Inserts `line` before `at`, growing the vector by exactly one: a
/// resident cart is mostly a few lines, and doubling would leave a fourth
/// of a three-line cart's 56-byte lines allocated and unused in each of
/// up to hundreds of thousands of carts.
void insert_line(cart_state& cart, std::vector<cart_line>::iterator at, cart_line line) {
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

void cart_record(cart_state& cart, cart_op op) {
  if (op == 0)
    return;
  if (cart.ops.size() >= cart_ops_kept)
    cart.ops.erase(cart.ops.begin(), cart.ops.end() - (cart_ops_kept - 1));
  cart.ops.push_back(op);
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
