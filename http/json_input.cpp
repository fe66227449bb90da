// Strict JSON body reading (see json_input.hpp).
#include "http/json_input.hpp"

#include "domain/money.hpp"
#include "http/response_helpers.hpp"
#include "http/router.hpp"

#include <charconv>
#include <cmath>

namespace emporium::http {

std::optional<std::int64_t> parse_positive_id(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0)
    return std::nullopt;
  return value;
}

json_input::json_input(const std::string& body) {
  if (body.empty()) {
    error_ = error_response(errc::invalid_argument, "request body must be a JSON object");
    return;
  }
  doc_ = nlohmann::json::parse(body, nullptr, false);
  if (doc_.is_discarded())
    error_ = error_response(errc::invalid_argument, "malformed JSON body");
  else if (!doc_.is_object())
    error_ = error_response(errc::invalid_argument, "request body must be a JSON object");
}

const nlohmann::json* json_input::find(const std::string& field) const {
  if (!doc_.is_object())
    return nullptr;
  auto it = doc_.find(field);
  if (it != doc_.end())
    return &*it;
  auto wanted = to_lower(field);
  for (auto i = doc_.begin(); i != doc_.end(); ++i)
    if (to_lower(i.key()) == wanted)
      return &i.value();
  return nullptr;
}

bool json_input::has(const std::string& field) const {
  auto v = find(field);
  return v != nullptr && !v->is_null();
}

void json_input::fail(const std::string& field, const std::string& problem) {
  if (!error_)
    error_ = field_error(field, problem);
}

std::optional<std::string> json_input::text(const std::string& field, bool required,
                                            std::size_t max_length) {
  auto v = find(field);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(field, "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    fail(field, "must be a string");
    return std::nullopt;
  }
  auto s = v->get<std::string>();
  if (s.size() > max_length) {
    fail(field, "is longer than " + std::to_string(max_length) + " characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> json_input::integer(const std::string& field, bool required,
                                                std::int64_t min, std::int64_t max) {
  auto v = find(field);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(field, "is required");
    return std::nullopt;
  }
  std::int64_t value = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > 9'000'000'000'000'000'000ull) {
      fail(field, "is out of range");
      return std::nullopt;
    }
    value = v->get<std::int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) {
      fail(field, "must be an integer");
      return std::nullopt;
    }
    value = static_cast<std::int64_t>(d);
  } else {
    fail(field, "must be an integer");
    return std::nullopt;
  }
  if (value < min || value > max) {
    fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> json_input::money(const std::string& field, bool required) {
  auto v = find(field);
  if (v == nullptr || v->is_null()) {
    if (required)
      fail(field, "is required");
    return std::nullopt;
  }
  if (!v->is_number()) {
    fail(field, "must be a number");
    return std::nullopt;
  }
  auto amount = cents_from_decimal(v->get<double>());
  if (!amount) {
    fail(field, "must be between 0 and 1000000");
    return std::nullopt;
  }
  return amount;
}

} // namespace emporium::http
