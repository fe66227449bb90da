// An immutable string whose copies share one allocation (an atomic count
// beside the characters), 8 bytes per holder. An entity's id is held by its
// directory slot and by the entity itself for the entity's whole life; as a
// std::string each held its own 32-byte header plus a 48-byte heap block
// (real ids are 32 hex characters, past the small-string buffer).
//
// Unlike interned_name there is no pool: equal texts made separately are
// separate blocks, and the last holder frees its block.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace emporium {

class shared_text {
public:
  shared_text() noexcept = default; ///< the empty text (no allocation)
  explicit shared_text(std::string_view text); ///< empty text allocates nothing

  shared_text(const shared_text& other) noexcept : block_(other.block_) { retain(); }
  shared_text(shared_text&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
  shared_text& operator=(shared_text other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~shared_text() { release(); }

  std::string_view view() const noexcept {
    return block_ ? std::string_view{block_->chars(), block_->size} : std::string_view{};
  }
  std::string str() const { return std::string{view()}; }
  bool empty() const noexcept { return block_ == nullptr; }

  friend bool operator==(const shared_text& a, const shared_text& b) noexcept {
    return a.block_ == b.block_ || a.view() == b.view();
  }
  friend bool operator==(const shared_text& a, std::string_view b) noexcept {
    return a.view() == b;
  }

private:
  struct block {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
    // `size` characters follow the block, in the same allocation.
    const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  };

  void retain() noexcept {
    if (block_ != nullptr)
      block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  block* block_ = nullptr;
};

} // namespace emporium
