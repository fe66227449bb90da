// Everything Emporium reads from Stripe or from someone claiming to be it:
// the first byte picks what the rest is fed to.
//   0: a webhook delivery, correctly signed, through the real route: never
//      a 500, and only 200 or 400 (the fuzzed backend answers at once);
//   1: a Stripe-Signature header and payload: arbitrary bytes never verify;
//   2: an API answer under every status class: read without throwing, and
//      a success always names its intent;
//   3: an event body: an event acted on always names an order and an intent.
#include "edge_harness.hpp"
#include "payments/stripe_messages.hpp"
#include "payments/stripe_webhook.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

using namespace emporium;
using namespace emporium::payments::stripe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  static const bool ready = sodium_init() >= 0;
  if (!ready)
    std::abort();
  std::string rest{reinterpret_cast<const char*>(data + 1), size - 1};
  switch (data[0] % 4) {
    case 0: {
      auto& e = fuzz::shared_edge();
      http::request req;
      req.method = "POST";
      req.path = "/api/payments/webhook";
      req.client = "127.0.0.1";
      req.body = rest;
      req.headers["stripe-signature"] =
        sign_payload(rest, fuzz::webhook_secret, static_cast<std::int64_t>(std::time(nullptr)));
      auto res = fuzz::run(e, req);
      if (res.status != 200 && res.status != 400) {
        std::fprintf(stderr, "webhook answered %u: %s\n", res.status, res.body.c_str());
        std::abort();
      }
      break;
    }
    case 1: {
      auto cut = rest.find('\n');
      auto header = rest.substr(0, cut);
      auto payload = cut == std::string::npos ? std::string{} : rest.substr(cut + 1);
      if (verify_signature(header, payload, "whsec_fuzz", 1'700'000'000) ==
          signature_check::valid)
        std::abort();
      break;
    }
    case 2: {
      static constexpr int statuses[] = {0, 200, 400, 401, 402, 404, 409, 429, 500, 503};
      for (int status : statuses) {
        auto a = read_intent_answer(status, rest);
        if (a.what == verdict::succeeded && a.intent_id.empty())
          std::abort();
        (void)read_settle_answer(status, rest);
      }
      break;
    }
    default: {
      auto ev = parse_event(rest);
      if (ev && ev->kind != event_kind::other && (ev->order <= 0 || ev->intent_id.empty()))
        std::abort();
      break;
    }
  }
  return 0;
}
