// Plain records of accounts and products as actors and the edge exchange
// them (no CAF here; inspect overloads live in protocol.hpp).
#pragma once

#include "domain/money.hpp"

#include <cstdint>
#include <string>

namespace emporium {

struct user_record {
  std::string id;
  std::string email;
  std::string password_hash; // argon2id string from crypto_pwhash_str
  std::string first_name;
  std::string last_name;
  std::string role = "customer"; // customer | admin
};

struct product_record {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  cents price = 0;
  std::string category;
};

} // namespace emporium
