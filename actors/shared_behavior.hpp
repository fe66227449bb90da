// One behaviour for every actor of a class. CAF 0.17 builds each actor's
// behaviour, the table of its message handlers, when the actor starts: ~450
// bytes for eight handlers (300,000 idle actors, an own table each against
// one shared); sharing it took a resident cart from ~2,335 to ~1,955 bytes
// and a stock record from ~2,135 to ~1,745 (bench_actors). An entity class derived
// from shared_behavior_actor builds its table once per process; a handler
// captures nothing and finds the actor it runs for through running(), which
// resume() sets on this thread for as long as the actor runs. CAF invokes
// an event-based actor's handlers only from inside its resume(), under
// every scheduler (the test coordinator's too).
// Included by entity .cpp files only (it pulls in CAF).
#pragma once

#include <caf/all.hpp>

#include <stdexcept>

namespace emporium {

template <class State>
class shared_behavior_actor : public caf::stateful_actor<State> {
public:
  using super = caf::stateful_actor<State>;
  using super::super;

  caf::resumable::resume_result resume(caf::execution_unit* ctx, std::size_t max) override {
    // Restored on the way out, also when another actor runs inside this
    // one's resume (a scheduler that runs a message's receiver inline).
    struct scope {
      shared_behavior_actor* outer = running_;
      explicit scope(shared_behavior_actor* self) { running_ = self; }
      ~scope() { running_ = outer; }
    } guard{this};
    return super::resume(ctx, max);
  }

  /// After each message: an actor that awaits no response and has nothing
  /// else queued frees CAF's table of pending responses. CAF keeps the
  /// table's storage once an entity has made its first request (a store
  /// write), 16 to 64 bytes for the rest of an idle entity's life; freeing
  /// it costs a small allocation at the next write. Runs inside resume(),
  /// where this actor alone touches its members.
  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto result = super::consume(x);
    auto& pending = this->multiplexed_responses_.container();
    if (pending.empty() && pending.capacity() > 0 && this->mailbox().empty())
      pending.shrink_to_fit();
    return result;
  }

  /// Slots in CAF's pending-response table (for tests).
  std::size_t response_table_capacity() const noexcept {
    return this->multiplexed_responses_.container().capacity();
  }

  /// The actor whose handler runs on this thread. Throws outside a handler
  /// (a programming error: the entity crashes, not the node).
  static caf::stateful_actor<State>* running() {
    if (running_ == nullptr)
      throw std::logic_error("a shared handler ran outside its actor");
    return running_;
  }

private:
  static inline thread_local shared_behavior_actor* running_ = nullptr;
};

} // namespace emporium
