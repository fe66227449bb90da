// Password strength (see password_policy.hpp).
#include "http/auth/password_policy.hpp"

#include <zxcvbn.h>

#include <cstring>

namespace emporium::http {

std::optional<std::string> password_weakness(const std::string& password,
                                             const std::string& email) {
  if (password.size() < min_password_length)
    return "must be at least " + std::to_string(min_password_length) + " characters";
  if (std::memchr(password.data(), '\0', password.size()) != nullptr)
    return "must not contain NUL characters"; // zxcvbn reads a C string
  auto local = email.substr(0, email.find('@'));
  const char* user_words[] = {email.c_str(), local.c_str(), nullptr};
  double bits = ZxcvbnMatch(password.c_str(), user_words, nullptr);
  if (bits < min_password_bits)
    return "is too easy to guess (a common password, word, name or pattern); "
           "add a few less common words or characters";
  return std::nullopt;
}

} // namespace emporium::http
