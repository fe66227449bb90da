// A deterministic demo catalog: a few hundred realistic products over several
// categories, the same on every run (no randomness, no download).
#pragma once

#include "domain/records.hpp"

#include <vector>

namespace emporium {

struct demo_product {
  product_record product;
  std::int64_t stock = 0;
};

std::vector<demo_product> make_demo_catalog();

} // namespace emporium
