// Snapshot rows read back from SQLite: the first byte picks cart, stock or
// order, the rest is the row's text. A row either is refused or decodes to
// a state that keeps the rules' invariants and survives encode -> decode.
#include "actors/state_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace emporium;

namespace {
void check(bool ok) {
  if (!ok)
    std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string text{reinterpret_cast<const char*>(data + 1), size - 1};
  switch (data[0] % 3) {
    case 0:
      if (auto cart = decode_cart(text)) {
        for (std::size_t i = 0; i < cart->lines.size(); ++i) {
          check(cart->lines[i].quantity > 0 && cart->lines[i].quantity <= max_line_quantity);
          check(i == 0 || cart->lines[i - 1].product < cart->lines[i].product);
        }
        auto again = decode_cart(encode(*cart));
        check(again.has_value() && again->lines.size() == cart->lines.size());
        check(encode(*again) == encode(*cart));
      }
      break;
    case 1:
      if (auto stock = decode_stock(text)) {
        check(stock->on_hand >= 0 && stock_reserved(*stock) <= stock->on_hand);
        check(stock_available(*stock) >= 0);
        auto again = decode_stock(encode(*stock));
        check(again.has_value() && *again == *stock);
      }
      break;
    default:
      if (auto order = decode_order(text)) {
        check(order->id >= 0 && order->total >= 0); // a draft has id 0 until placed
        check(order->status >= order_status::submitted && order->status <= order_status::cancelled);
        (void)status_name(order->status);
        (void)order_event_payload(*order, 0);
        auto again = decode_order(encode(*order));
        check(again.has_value());
        check(encode(*again) == encode(*order));
      }
      break;
  }
  return 0;
}
