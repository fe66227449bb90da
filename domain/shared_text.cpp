// One allocation per text: the count and size, then the characters.
#include "domain/shared_text.hpp"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace emporium {

shared_text::shared_text(std::string_view text) {
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("shared_text: text too long");
  if (text.empty())
    return;
  void* raw = std::malloc(sizeof(block) + text.size());
  if (raw == nullptr)
    throw std::bad_alloc();
  block_ = ::new (raw) block{{1}, static_cast<std::uint32_t>(text.size())};
  std::memcpy(static_cast<char*>(raw) + sizeof(block), text.data(), text.size());
}

void shared_text::release() noexcept {
  if (block_ == nullptr)
    return;
  // acq_rel: the last holder must see every other holder's reads done
  // before it frees the characters.
  if (block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~block();
    std::free(block_);
  }
  block_ = nullptr;
}

} // namespace emporium
