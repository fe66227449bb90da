// The W3C traceparent header of every request: refused (a new trace starts)
// or read into a valid context that formats back to the header's first
// 55 characters, lower-case hex, version 00 as written.
#include "tests/fuzz/fuzz_check.hpp"
#include "support/trace.hpp"

#include <cstdint>
#include <string>
#include <string_view>

using emporium::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view header{reinterpret_cast<const char*>(data), size};
  auto ctx = emporium::trace::parse_traceparent(header);
  if (!ctx)
    return 0;
  check(ctx->valid());
  auto text = emporium::trace::traceparent(*ctx);
  check(text.size() == 55);
  // Same ids and flags; the version we write is always 00.
  check(text.substr(2) == header.substr(2, 53));
  auto again = emporium::trace::parse_traceparent(text);
  check(again.has_value() && *again == *ctx);
  return 0;
}
