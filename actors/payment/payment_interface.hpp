// What the payment actor accepts; each request names its reply, and the
// handle is a typed_actor, so a mismatch does not compile. Every request is
// idempotent by order id (the provider sees the key "order-<id>"), and
// carries `answer_by_ms`: the wall-clock instant after which whoever asked
// no longer waits (0: it always does). A call no one waits for is not
// sent to the provider, and a request asked again while the first is still
// open joins it (payment_actor.hpp).
#pragma once

#include "domain/money.hpp"
#include "domain/stock_rules.hpp" // order_id
#include "domain/views.hpp"       // payment_reply

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace emporium {

/// Charge an order's total to its payment method. Declines are answers
/// (approved = false, with the reason); only a provider that stays
/// unreachable through the retries and the breaker gives unavailable.
struct charge_order {
  using reply = payment_reply;
  order_id order = 0;
  cents amount = 0;
  std::string method; ///< the client's pm_... id
  std::int64_t answer_by_ms = 0;
};

/// Give an order's charge back (or void one whose answer never came); true
/// once the provider holds no money for it. Carries the charge's amount and
/// method: a provider may replay the charge's request to learn its fate.
struct refund_order {
  using reply = bool;
  order_id order = 0;
  cents amount = 0;
  std::string method;
  std::int64_t answer_by_ms = 0;
};

/// What became of an order's charge that asked its buyer to authenticate
/// (`payment_id`: the provider's id of it). Answers as a charge does:
/// approved, declined with the reason, or still waiting (action_secret).
struct check_payment {
  using reply = payment_reply;
  order_id order = 0;
  cents amount = 0;
  std::string method;
  std::string payment_id;
  std::int64_t answer_by_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, check_payment& x) {
  return f(caf::meta::type_name("check_payment"), x.order, x.amount, x.method, x.payment_id,
           x.answer_by_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, charge_order& x) {
  return f(caf::meta::type_name("charge_order"), x.order, x.amount, x.method, x.answer_by_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refund_order& x) {
  return f(caf::meta::type_name("refund_order"), x.order, x.amount, x.method, x.answer_by_ms);
}

using payment_actor = caf::typed_actor<caf::replies_to<charge_order>::with<payment_reply>,
                                       caf::replies_to<refund_order>::with<bool>,
                                       caf::replies_to<check_payment>::with<payment_reply>>;

} // namespace emporium
