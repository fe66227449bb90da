// What a new password must be: at least 8 characters, and not easy to
// guess by zxcvbn's estimate (Debian's libzxcvbn: dictionaries of common
// passwords, names and words, keyboard patterns, dates, l33t substitutions;
// the user's own email counts as a dictionary word).
#pragma once

#include <optional>
#include <string>

namespace emporium::http {

inline constexpr std::size_t min_password_length = 8;
/// log2 of the guesses needed: 20 bits is about 10^6 guesses, zxcvbn's
/// score 2 ("somewhat guessable: protection from unthrottled online attacks").
inline constexpr double min_password_bits = 20.0;

/// Why the password is refused, as a field error's text; nullopt if it is fine.
std::optional<std::string> password_weakness(const std::string& password,
                                             const std::string& email);

} // namespace emporium::http
