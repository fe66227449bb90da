// Registration of Emporium's message types, and CAF errors -> errc.
#include "actors/protocol.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>

namespace emporium {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::emporium>();
}

errc to_errc(const caf::error& err) {
  if (!err)
    return errc::none;
  if (err.category() == caf::atom("emporium")) // a peer's code past the enum is a bug
    return err.code() <= static_cast<std::uint8_t>(errc::overloaded) ? static_cast<errc>(err.code())
                                                                      : errc::internal;
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout: return errc::timeout;
      case caf::sec::request_receiver_down: return errc::unavailable;
      default: break;
    }
  }
  return errc::internal;
}

} // namespace emporium
