// Rows read back from SQLite: the first byte picks a cart, stock or order
// snapshot or an outbox event, the rest is the row's text. A row either is
// refused or decodes to a value that keeps the rules' invariants and
// survives encode -> decode.
#include "tests/fuzz/fuzz_check.hpp"
#include "persistence/state_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace emporium;

using emporium::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string text{reinterpret_cast<const char*>(data + 1), size - 1};
  switch (data[0] % 4) {
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
    case 3:
      if (auto event = decode_event(text, "u", 7, 9)) {
        check(event->total >= 0 && event->seq == 9 && event->order == 7);
        auto again = decode_event(encode(*event), "u", 7, 9);
        check(again.has_value() && again->status == event->status &&
              again->total == event->total && again->reason == event->reason);
      }
      break;
    default:
      if (auto order = decode_order(text)) {
        check(order->id >= 0 && order->total >= 0); // a draft has id 0 until placed
        check(order->status >= order_status::submitted &&
              order->status <= order_status::authentication_required);
        check(order->payment_action.size() <= max_payment_action_bytes);
        (void)status_name(order->status);
        auto event = event_of(*order, 0);
        auto back = decode_event(encode(event), event.user, event.order, 1);
        check(back.has_value() && back->status == order->status && back->total == order->total);
        auto again = decode_order(encode(*order));
        check(again.has_value());
        check(encode(*again) == encode(*order));
      }
      break;
  }
  return 0;
}
