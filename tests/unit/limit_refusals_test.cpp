// The limits' refusal counter: every limit's series exists from the start,
// and a refusal counts under its own limit only.
#include "http/limit_refusals.hpp"
#include "support/metrics.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <string>

using namespace emporium::http;

namespace {

/// The value of emporium_limit_refusals_total{limit="<name>"}, or -1.
double refusals(const std::string& name) {
  auto text = emporium::metrics::default_registry().expose();
  std::smatch m;
  std::regex line("emporium_limit_refusals_total\\{limit=\"" + name + "\"\\} (\\d+)\n");
  return std::regex_search(text, m, line) ? std::stod(m[1]) : -1;
}

} // namespace

TEST_CASE("each limit has its refusal series from the start, and counts its own refusals") {
  export_limit_refusals();
  const limit all[] = {limit::requests_per_client,       limit::socket_messages_per_client,
                       limit::requests_in_flight,        limit::connections,
                       limit::connections_per_client,    limit::logins_per_address,
                       limit::logins_per_address_account, limit::registrations_per_address,
                       limit::login_checks_queued,       limit::registration_checks_queued,
                       limit::password_checks_per_client};
  for (auto which : all)
    CHECK_MESSAGE(refusals(limit_name(which)) >= 0, limit_name(which));
  CHECK(std::string{limit_name(limit::logins_per_address)} == "logins_per_address");
  auto logins = refusals("logins_per_address");
  auto accounts = refusals("logins_per_address_account");
  count_refusal(limit::logins_per_address, "203.0.113.7");
  count_refusal(limit::logins_per_address, "203.0.113.8");
  CHECK(refusals("logins_per_address") == logins + 2);
  CHECK(refusals("logins_per_address_account") == accounts);
}
