// JSON-line logging to stderr (see log.hpp).
#include "support/log.hpp"

#include "support/json_field.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace emporium::log {

void write(std::string_view level, std::string_view event,
           std::initializer_list<field> fields) noexcept {
  try {
    using namespace std::chrono;
    nlohmann::json line{
      {"ts", duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()},
      {"level", level},
      {"event", event}};
    for (const auto& [key, value] : fields)
      line[std::string{key}] = value;
    // replace: a client's bytes in a field must not make the dump throw.
    auto text = json_read::dump(line);
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
  } catch (...) {
    std::fputs("{\"level\":\"error\",\"event\":\"log_failed\"}\n", stderr);
  }
}

std::string current_exception_text() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    try {
      return e.what();
    } catch (...) {
    }
  } catch (...) {
  }
  return "unknown exception";
}

} // namespace emporium::log
