// Thread names (see thread_name.hpp).
#include "support/thread_name.hpp"

#include <pthread.h>

#include <string>

namespace emporium {

void name_this_thread(std::string_view name) {
  constexpr std::size_t max_bytes = 15; // the kernel's limit, without the NUL
  std::string text{name.substr(0, max_bytes)};
  pthread_setname_np(pthread_self(), text.c_str());
}

} // namespace emporium
