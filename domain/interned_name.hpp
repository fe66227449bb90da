// A product's name as a cart line holds it: one shared, immutable copy per
// distinct name in the process instead of one per line. A resident cart
// holds about three lines; their names were a third of what a cart costs
// beyond CAF's own actor (bench_actors), and a line shrinks from 56 to 32
// bytes. Copies share the text (an atomic count); equal text compares equal.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace emporium {

class interned_name {
public:
  interned_name() noexcept = default; ///< the empty name
  /// The shared copy of `text` (made the first time it is seen).
  interned_name(std::string_view text);
  interned_name(const std::string& text) : interned_name(std::string_view{text}) {}
  interned_name(const char* text) : interned_name(std::string_view{text}) {}

  interned_name(const interned_name& other) noexcept : node_(other.node_) { retain(); }
  interned_name(interned_name&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  interned_name& operator=(const interned_name& other) noexcept;
  interned_name& operator=(interned_name&& other) noexcept;
  ~interned_name() { release(); }

  const std::string& str() const noexcept;
  operator std::string_view() const noexcept { return str(); }
  bool empty() const noexcept { return node_ == nullptr; }

  /// One node per distinct text at a time, so equal text is the same node.
  friend bool operator==(const interned_name& a, const interned_name& b) noexcept {
    return a.node_ == b.node_;
  }

  struct node {
    std::atomic<std::uint32_t> refs{0};
    std::string text;
  };

  /// Distinct names the pool holds now, released ones not yet swept
  /// included (for tests and metrics).
  static std::size_t pool_size();

private:
  void retain() noexcept {
    if (node_ != nullptr)
      node_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  // A node whose count reaches 0 stays in the pool until a sweep (under the
  // pool's lock) frees it; only the pool hands out a node with count 0
  // (under the same lock), so a sweep never frees one in use.
  void release() noexcept {
    if (node_ != nullptr)
      node_->refs.fetch_sub(1, std::memory_order_release);
  }

  node* node_ = nullptr;
};

} // namespace emporium
