// POST /api/csp-reports: where browsers report what the storefront page's
// content security policy refused (its `report-uri`). Without it a refusal
// shows only in the buyer's browser console: the operator would never learn
// that a script was injected into the page, or that a new Stripe origin
// (README, Security) is being refused in a live shop.
//
// Public and unauthenticated, as browsers send them: counted per client like
// every /api call, at most max_csp_report_bytes, and each refusal counted in
// emporium_csp_violations_total{directive} and logged, within a log budget
// shared by every client. Answers 204; a body that is not a report is a 400.
#include "http/api_context.hpp"
#include "http/csp_report.hpp"
#include "http/response_helpers.hpp"
#include "support/line_budget.hpp"
#include "support/log.hpp"
#include "support/metrics.hpp"

#include <string>
#include <variant>

namespace emporium::http {

namespace {

metrics::counter& violation_count(const std::string& directive) {
  static auto& family = metrics::default_registry().counter_family(
    "emporium_csp_violations_total",
    "Content security policy refusals browsers reported, by the directive that refused",
    {"directive"});
  return family.with({directive});
}

/// Log lines for reports, whoever sends them: 5 a second, 20 at once.
line_budget& report_lines() {
  static line_budget budget{5, 20};
  return budget;
}

void record(const csp_violation& v) {
  violation_count(v.directive).inc();
  auto held_back = report_lines().admit();
  if (!held_back)
    return;
  log::warn("content security policy violation",
            {{"directive", v.directive},
             {"blocked", v.blocked},
             {"document", v.document},
             {"source", v.source},
             {"line", std::to_string(v.line)},
             {"enforced", v.enforced ? "true" : "false"},
             {"held_back", std::to_string(*held_back)}});
}

} // namespace

void add_csp_report_routes(router& r, api_context&) {
  r.add("POST", "/api/csp-reports", [](request& req, responder respond) {
    if (req.body.size() > max_csp_report_bytes)
      return respond(error_response(errc::payload_too_large,
                                    "a CSP report is at most " +
                                      std::to_string(max_csp_report_bytes) + " bytes"));
    auto parsed = parse_csp_reports(req.body);
    if (auto why = std::get_if<std::string>(&parsed))
      return respond(error_response(errc::invalid_argument, std::move(*why)));
    for (const auto& v : std::get<csp_reports>(parsed).violations)
      record(v);
    response done;
    done.status = 204;
    done.content_type.clear();
    respond(std::move(done));
  });
}

} // namespace emporium::http
