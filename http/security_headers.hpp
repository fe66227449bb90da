// The headers every answer carries against what a browser might otherwise do
// with it: sniff it into another type, show it in someone else's frame, leak
// the page's address to another site, or keep a copy of personal data (a
// cart, an order, a token) in a cache. The storefront's page also gets a
// content security policy that runs only the storefront's own files, so an
// injected script has nowhere to come from and nowhere to send to. After
// OWASP's cheat sheets on HTTP security response headers and on REST
// security. Strict-Transport-Security belongs to whatever terminates TLS in
// front of the node (README, Security): the node itself speaks plain HTTP.
#pragma once

#include "http/message.hpp"

#include <string_view>

namespace emporium::http {

/// The storefront page's policy: scripts, styles, images, fonts and
/// connections (its fetches and the live socket) from its own origin only;
/// no plugins, no <base>, forms only to itself, framed by nobody. What it
/// refuses, the browser reports to the node (csp_report_routes.cpp), so the
/// operator sees an injected script, not only the buyer's console.
inline constexpr std::string_view page_security_policy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
  "form-action 'self'; frame-ancestors 'none'; report-uri /api/csp-reports";

/// The page's policy when it takes cards with Stripe Elements: also Stripe.js
/// from js.stripe.com (and the *.js.stripe.com hosts it loads parts from),
/// its card fields' frames (the same hosts, and hooks.stripe.com for a
/// card's authentication) and its calls to api.stripe.com, as Stripe's
/// security guide lists them (less maps.googleapis.com, which only its
/// address element uses). Nothing else is opened: still no inline script,
/// no other origin.
inline constexpr std::string_view stripe_page_security_policy =
  "default-src 'self'; script-src 'self' https://js.stripe.com https://*.js.stripe.com; "
  "style-src 'self'; img-src 'self' data:; font-src 'self'; "
  "connect-src 'self' https://api.stripe.com; "
  "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; "
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
  "report-uri /api/csp-reports";

/// Every other answer (JSON, the page's files): as a document it may load
/// nothing and be framed by nobody.
inline constexpr std::string_view resource_security_policy =
  "default-src 'none'; frame-ancestors 'none'";

/// What `res` must carry besides its own headers, as wire text ("Name:
/// value\r\n" lines): the policy for its content type unless its handler
/// chose one, and `Cache-Control: no-store` unless its handler chose a
/// cache policy.
std::string_view security_headers(const response& res);

} // namespace emporium::http
