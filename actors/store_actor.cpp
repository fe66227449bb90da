// The store actor owns one SQLite connection. Saves that arrive while it is
// busy are batched: the first save of a batch queues a `flush` behind itself,
// so every save already in the mailbox joins the same transaction (group
// commit), and each saver gets its answer only after that commit.
#include "actors/entity_runtime.hpp"
#include "persistence/entity_store.hpp"

#include <memory>
#include <vector>

namespace emporium {

namespace {

struct store_actor_state {
  std::unique_ptr<persistence::entity_store> store;
  std::vector<persistence::entity_write> batch;
  std::vector<caf::response_promise> waiting;
  bool flush_queued = false;
  static inline const char* name = "store";
};

using store_self = caf::stateful_actor<store_actor_state>;

void flush(store_self* self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.batch.empty())
    return;
  caf::error outcome;
  try {
    st.store->commit(st.batch);
  } catch (const std::exception&) {
    outcome = make_error(errc::storage_failure);
  }
  for (auto& rp : st.waiting) {
    if (outcome)
      rp.deliver(outcome);
    else
      rp.deliver(caf::unit);
  }
  st.batch.clear();
  st.waiting.clear();
}

caf::behavior store_actor(store_self* self, std::string path,
                          persistence::durability level) {
  self->state.store = std::make_unique<persistence::entity_store>(path, level);
  return {
    [self](atoms::load, std::uint8_t kind, const std::string& id) -> caf::result<std::string> {
      // A write for this entity may still sit in the batch (its previous
      // incarnation crashed before the answer): commit before reading.
      flush(self);
      try {
        return self->state.store->load(kind, id).value_or(std::string{});
      } catch (const std::exception&) {
        return make_error(errc::storage_failure);
      }
    },
    [self](atoms::save, std::uint8_t kind, std::string& id, std::string& state) {
      auto& st = self->state;
      st.batch.push_back({kind, std::move(id), std::move(state)});
      st.waiting.push_back(self->make_response_promise());
      if (!st.flush_queued) {
        st.flush_queued = true;
        self->send(self, atoms::flush::value);
      }
    },
    [self](atoms::flush) { flush(self); },
  };
}

} // namespace

caf::actor spawn_store(caf::actor_system& sys, const std::string& db_path,
                       persistence::durability level, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(store_actor, db_path, level);
  return sys.spawn(store_actor, db_path, level);
}

} // namespace emporium
