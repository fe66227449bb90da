// A message type's layout as text, read from its `inspect` overload: the
// fields CAF's binary serializer puts on the wire, in order, with their
// kinds and widths, nested types spelled out (wire_protocol.cpp hashes it).
// Two builds whose types give the same text read each other's messages;
// a field added, dropped, moved or widened anywhere changes it. CAF 0.17
// names a message's types on the wire but not their layout, so without
// this check a peer of another build would read another struct's bytes.
// Only wire_protocol.cpp and its test include this (it pulls in CAF).
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace emporium::wire {

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_map : std::false_type {};
template <class K, class V, class C, class A>
struct is_map<std::map<K, V, C, A>> : std::true_type {};

template <class>
inline constexpr bool unsupported = false;

/// An inspector (CAF 0.17's interface) that writes a layout instead of
/// bytes. Containers are described by a default element, so an empty
/// vector still shows what it would hold.
class schema_inspector {
public:
  using result_type = void;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (describe(xs), ...);
  }

  template <class T>
  void describe(T& x) {
    using U = std::remove_cv_t<std::remove_reference_t<T>>;
    if constexpr (std::is_same_v<U, caf::meta::type_name_t>) {
      text += x.value;
      text += ':';
    } else if constexpr (caf::meta::is_annotation<U>::value) {
      // callbacks and hints: no bytes of their own
    } else if constexpr (std::is_same_v<U, bool>) {
      text += "b,";
    } else if constexpr (std::is_enum_v<U>) {
      text += 'e';
      number<std::underlying_type_t<U>>();
    } else if constexpr (std::is_arithmetic_v<U>) {
      number<U>();
    } else if constexpr (std::is_same_v<U, std::string>) {
      text += "s,";
    } else if constexpr (std::is_same_v<U, caf::atom_value> || caf::is_atom_constant<U>::value) {
      text += "atom,";
    } else if constexpr (std::is_same_v<U, caf::actor>) {
      text += "actor,";
    } else if constexpr (std::is_same_v<U, caf::message>) {
      text += "message,"; // its elements carry their own type names
    } else if constexpr (is_vector<U>::value) {
      typename U::value_type element{};
      text += '[';
      describe(element);
      text += "],";
    } else if constexpr (is_optional<U>::value) {
      typename U::value_type inner{};
      text += '?';
      describe(inner);
    } else if constexpr (is_map<U>::value) {
      typename U::key_type key{};
      typename U::mapped_type value{};
      text += '<';
      describe(key);
      describe(value);
      text += ">,";
    } else if constexpr (requires(schema_inspector& f, U& v) { inspect(f, v); }) {
      text += '{';
      inspect(*this, x);
      text += "},";
    } else {
      static_assert(unsupported<U>, "wire::schema_inspector: describe this field type");
    }
  }

  std::string text;

private:
  template <class N>
  void number() {
    text += std::is_floating_point_v<N> ? 'f' : std::is_signed_v<N> ? 'i' : 'u';
    text += std::to_string(sizeof(N) * 8);
    text += ',';
  }
};

/// The layout of `T` (a default value's: only the shape matters).
template <class T>
std::string schema_of() {
  schema_inspector f;
  T value{};
  f.describe(value);
  return std::move(f.text);
}

} // namespace emporium::wire
