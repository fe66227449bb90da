// An entity's address as its directory slot and the running entity hold it
// for the entity's whole life: the same fields as entity_key, but the id's
// text is shared (shared_text) instead of copied into each holder. Messages
// keep carrying entity_key; a directory finds a slot by either (the hash
// and equality below are transparent and agree across the two).
#pragma once

#include "actors/protocol.hpp"
#include "domain/shared_text.hpp"

#include <functional>
#include <string_view>

namespace emporium {

struct entity_ref {
  entity_kind kind = entity_kind::cart;
  shared_text id;

  entity_ref() = default;
  entity_ref(entity_kind k, shared_text text) : kind(k), id(std::move(text)) {}
  explicit entity_ref(const entity_key& key) : kind(key.kind), id(key.id) {}

  entity_key key() const { return entity_key{kind, id.str()}; }
};

struct entity_ref_hash {
  using is_transparent = void;
  static std::size_t of(entity_kind kind, std::string_view id) noexcept {
    return std::hash<std::string_view>{}(id) * 31 + static_cast<std::size_t>(kind);
  }
  std::size_t operator()(const entity_ref& r) const noexcept { return of(r.kind, r.id.view()); }
  std::size_t operator()(const entity_key& k) const noexcept { return of(k.kind, k.id); }
};

struct entity_ref_equal {
  using is_transparent = void;
  static std::string_view text(const entity_ref& r) noexcept { return r.id.view(); }
  static std::string_view text(const entity_key& k) noexcept { return k.id; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return a.kind == b.kind && text(a) == text(b);
  }
};

} // namespace emporium
