// The order index actor (see order_index_actor.hpp).
#include "actors/wall_clock.hpp"
#include "actors/order/order_index_actor.hpp"

#include "actors/guarded.hpp"
#include "actors/protocol.hpp"
#include "actors/state_codec.hpp"
#include "persistence/order_store.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

namespace emporium {

namespace {

struct index_state {
  std::unique_ptr<persistence::order_store> store;
  caf::actor directory;
  event_sink on_event;
  static inline const char* name = "order_index";
};

using index_self = caf::stateful_actor<index_state>;



caf::behavior order_index(index_self* self, std::string path, persistence::durability level,
                          caf::actor directory, event_sink on_event,
                          persistence::order_id_space ids) {
  self->state.store = std::make_unique<persistence::order_store>(path, level, ids);
  self->state.directory = std::move(directory);
  self->state.on_event = std::move(on_event);
  return {
    [self](atoms::place, const std::string& user, const std::string& key,
           const std::string& hash, const std::string& draft, const std::string& answer) {
      return guarded([&]() -> caf::result<std::string> {
        auto& st = self->state;
        if (!key.empty()) {
          if (auto known = st.store->find_by_key(user, key)) {
            if (known->request_hash != hash)
              return make_error(errc::conflict);
            return known->response; // the original answer, byte for byte
          }
        }
        if (draft.empty())
          return make_error(errc::not_found); // a lookup only: nothing placed yet
        auto order = decode_order(draft);
        if (!order)
          return make_error(errc::invalid_argument);
        auto now = wall_clock_ms();
        order->placed_at = now;
        order->timeline = {{order_status::submitted, "", now}};
        std::string response;
        auto id = st.store->place(
          user, key.empty() ? std::nullopt : std::optional<std::string>{key}, hash,
          static_cast<std::uint8_t>(entity_kind::order), now,
          [&](std::int64_t id) {
            order->id = id;
            return encode(*order);
          },
          [&](std::int64_t id) {
            nlohmann::json e{{"type", "order.status"}, {"orderId", id},
                             {"status", status_name(order_status::submitted)},
                             {"reason", ""}, {"at", now},
                             {"totalAmount", cents_to_decimal(order->total)}};
            return persistence::outbox_row{user, id, e.dump(), 0};
          },
          [&](std::int64_t id) {
            auto j = nlohmann::json::parse(answer);
            j["orderId"] = id;
            response = j.dump();
            return response;
          });
        if (st.on_event)
          st.on_event(st.store->last_event());
        // The order is durably accepted; its saga starts now (and would be
        // resumed at start-up if this message were lost in a crash).
        caf::anon_send(st.directory, entity_key{entity_kind::order, std::to_string(id)},
                       caf::make_message(atoms::start::value));
        return response;
      });
    },
    [self](atoms::history, const std::string& user) {
      return guarded([&]() -> caf::result<std::vector<std::string>> {
        return self->state.store->history(user, 200);
      });
    },
    [self](atoms::find, order_id id) {
      return guarded([&]() -> caf::result<std::vector<std::string>> {
        auto found = self->state.store->find(id);
        if (!found)
          return make_error(errc::not_found);
        return std::vector<std::string>{found->first, found->second};
      });
    },
    [self](atoms::events, const std::string& user, std::int64_t seq) {
      return guarded([&]() -> caf::result<std::vector<persistence::outbox_row>> {
        return self->state.store->events_since(user, seq, 10'000);
      });
    },
    [self](atoms::unfinished) {
      return guarded([&]() -> caf::result<std::vector<std::int64_t>> {
        return self->state.store->unfinished(static_cast<std::uint8_t>(entity_kind::order));
      });
    },
  };
}

} // namespace

caf::actor spawn_order_index(caf::actor_system& sys, const std::string& db_path,
                             persistence::durability level, caf::actor directory,
                             event_sink on_event, persistence::order_id_space ids) {
  return sys.spawn<caf::detached>(order_index, db_path, level, std::move(directory),
                                  std::move(on_event), ids);
}

} // namespace emporium
