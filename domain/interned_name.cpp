// The process's pool of names (see interned_name.hpp). Interning takes a
// lock: it happens when a line is created or read back, not per request.
// The pool stays bounded: once it has doubled since the last sweep, a sweep
// frees every name no line holds any more.
#include "domain/interned_name.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace emporium {

namespace {

struct by_text {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
  std::size_t operator()(const interned_name::node* n) const noexcept { return (*this)(n->text); }
};

struct same_text {
  using is_transparent = void;
  static std::string_view text(std::string_view s) { return s; }
  static std::string_view text(const interned_name::node* n) { return n->text; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return text(a) == text(b);
  }
};

constexpr std::size_t first_sweep_at = 1024;

struct pool {
  std::mutex lock;
  std::unordered_set<interned_name::node*, by_text, same_text> names;
  std::size_t sweep_at = first_sweep_at;

  /// Frees the names nobody holds. Under `lock`: a count of 0 cannot rise
  /// meanwhile, since only intern() (under the lock too) hands such a node out.
  void sweep() {
    for (auto it = names.begin(); it != names.end();) {
      if ((*it)->refs.load(std::memory_order_acquire) == 0) {
        auto* unused = *it;
        it = names.erase(it); // hashes the text: before the node goes
        delete unused;
      } else {
        ++it;
      }
    }
    sweep_at = std::max(first_sweep_at, 2 * names.size());
  }

  interned_name::node* intern(std::string_view text) {
    std::lock_guard<std::mutex> guard{lock};
    if (auto it = names.find(text); it != names.end()) {
      (*it)->refs.fetch_add(1, std::memory_order_relaxed);
      return *it;
    }
    if (names.size() >= sweep_at)
      sweep();
    auto* n = new interned_name::node;
    n->text.assign(text);
    n->refs.store(1, std::memory_order_relaxed);
    names.insert(n);
    return n;
  }
};

pool& the_pool() {
  static auto* p = new pool; // never destroyed: names may outlive static destruction
  return *p;
}

} // namespace

interned_name::interned_name(std::string_view text) {
  if (!text.empty())
    node_ = the_pool().intern(text);
}

interned_name& interned_name::operator=(const interned_name& other) noexcept {
  if (node_ != other.node_) {
    release();
    node_ = other.node_;
    retain();
  }
  return *this;
}

interned_name& interned_name::operator=(interned_name&& other) noexcept {
  if (this != &other) {
    release();
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

const std::string& interned_name::str() const noexcept {
  static const std::string none;
  return node_ != nullptr ? node_->text : none;
}

std::size_t interned_name::pool_size() {
  auto& p = the_pool();
  std::lock_guard<std::mutex> guard{p.lock};
  return p.names.size();
}

} // namespace emporium
