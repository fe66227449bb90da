// CAF's own failures map onto our error enum (an actor that does not answer
// in time becomes errc::timeout, i.e. 504 at the edge).
#include "actors/protocol.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

using namespace emporium;

TEST_CASE("CAF errors map to errc") {
  CHECK(to_errc(caf::make_error(caf::sec::request_timeout)) == errc::timeout);
  CHECK(to_errc(caf::make_error(caf::sec::request_receiver_down)) == errc::unavailable);
  CHECK(to_errc(make_error(errc::insufficient_stock)) == errc::insufficient_stock);
  CHECK(to_errc(caf::error{}) == errc::none);
  CHECK(to_errc(caf::make_error(caf::sec::unexpected_message)) == errc::internal);
  CHECK(to_errc(make_error(errc::overloaded)) == errc::overloaded);
  // A code no build of ours sends (a newer peer's, or garbage) is not cast
  // into the enum.
  CHECK(to_errc(caf::error{static_cast<std::uint8_t>(200), caf::atom("emporium")}) ==
        errc::internal);
}
