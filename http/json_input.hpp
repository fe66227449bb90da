// Reading JSON request bodies strictly: malformed JSON, a non-object, a
// wrong type, a missing or out-of-range field each become a 400 that names
// the field. Field names are matched case-insensitively (camelCase clients
// and PascalCase .NET clients both work).
#pragma once

#include "http/message.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace emporium::http {

/// A path or query id: a positive decimal integer, nothing else.
std::optional<std::int64_t> parse_positive_id(const std::string& text);

class json_input {
public:
  /// Parses `body`; on failure `error()` holds the 400 to send.
  explicit json_input(const std::string& body);

  bool ok() const { return !error_; }
  response take_error() { return std::move(*error_); }

  bool has(const std::string& field) const;

  std::optional<std::string> text(const std::string& field, bool required,
                                  std::size_t max_length = 1000);
  std::optional<std::int64_t> integer(const std::string& field, bool required,
                                      std::int64_t min, std::int64_t max);
  /// A JSON number read as money (cents); at most two decimals of meaning.
  std::optional<std::int64_t> money(const std::string& field, bool required);

private:
  const nlohmann::json* find(const std::string& field) const;
  void fail(const std::string& field, const std::string& problem);
  nlohmann::json doc_;
  std::optional<response> error_;
};

} // namespace emporium::http
