// Reading JSON that someone else wrote (a client, or a row read back from
// disk) without exceptions. nlohmann's `value()`, `get<T>()`, `at()` and
// `operator[]` on a const value throw or assert on a wrong type; an exception
// that leaves a Beast I/O thread ends the process. These helpers check the
// JSON type and the target type's range and answer nullopt instead.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace emporium::json_read {

/// `v` as T: std::string (JSON string), bool (JSON boolean), an integral
/// type (a JSON integer that fits T; no floats, no booleans), double (any
/// JSON number). nullopt for anything else.
template <class T>
std::optional<T> as(const nlohmann::json& v) noexcept {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string())
      return std::nullopt;
    return *v.get_ptr<const std::string*>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean())
      return std::nullopt;
    return *v.get_ptr<const bool*>();
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) {
      auto u = *v.get_ptr<const std::uint64_t*>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        return std::nullopt;
      return static_cast<T>(u);
    }
    if (v.is_number_integer()) {
      auto i = *v.get_ptr<const std::int64_t*>();
      if constexpr (std::is_unsigned_v<T>) {
        if (i < 0 || static_cast<std::uint64_t>(i) >
                       static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
          return std::nullopt;
      } else {
        if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            i > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
          return std::nullopt;
      }
      return static_cast<T>(i);
    }
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, double>) {
    if (v.is_number_float())
      return *v.get_ptr<const double*>();
    if (v.is_number_unsigned())
      return static_cast<double>(*v.get_ptr<const std::uint64_t*>());
    if (v.is_number_integer())
      return static_cast<double>(*v.get_ptr<const std::int64_t*>());
    return std::nullopt;
  } else {
    static_assert(sizeof(T) == 0, "json_read::as: unsupported type");
  }
}

/// The member `key` of the object `obj`, or nullptr (not an object, absent).
inline const nlohmann::json* member(const nlohmann::json& obj, std::string_view key) noexcept {
  if (!obj.is_object())
    return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

/// Element `i` of the array `arr`, or nullptr (not an array, too short).
inline const nlohmann::json* element(const nlohmann::json& arr, std::size_t i) noexcept {
  if (!arr.is_array() || i >= arr.size())
    return nullptr;
  return &arr[i];
}

/// The member `key` of `obj` as T; nullopt when absent or of another type.
template <class T>
std::optional<T> field(const nlohmann::json& obj, std::string_view key) noexcept {
  auto v = member(obj, key);
  return v == nullptr ? std::nullopt : as<T>(*v);
}

/// Element `i` of `arr` as T; nullopt when absent or of another type.
template <class T>
std::optional<T> item(const nlohmann::json& arr, std::size_t i) noexcept {
  auto v = element(arr, i);
  return v == nullptr ? std::nullopt : as<T>(*v);
}

/// `j` as compact JSON text. Strings holding a client's bytes may not be
/// UTF-8: they are written with U+FFFD instead of making dump() throw
/// (type_error 316). Every dump of such data goes through here.
inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Parses text without exceptions; nullopt for malformed JSON (including
/// invalid UTF-8 inside strings) or nesting deeper than `max_depth`.
std::optional<nlohmann::json> parse(std::string_view text, std::size_t max_depth = 64) noexcept;

} // namespace emporium::json_read
