// WebSocket endpoints without Beast in sight: the server upgrades the
// connection and drives an endpoint; the endpoint talks back through a
// sender that any thread may use.
#pragma once

#include "http/message.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace emporium::http {

/// Sends text frames to one client. Thread-safe; a no-op once closed.
class ws_sender {
public:
  virtual ~ws_sender() = default;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
  /// Runs `then` (on the connection's I/O thread) once every frame sent so
  /// far has been written to the socket: at once when none waits. Never if
  /// the connection ends first. Lets a long replay go a page at a time,
  /// at the client's pace, without filling the bounded queue of frames.
  virtual void when_drained(std::function<void()> then) = 0;
};

class ws_endpoint {
public:
  virtual ~ws_endpoint() = default;
  virtual void on_open(std::shared_ptr<ws_sender> sender) = 0;
  virtual void on_text(const std::string& text) = 0;
  virtual void on_close() = 0;
  /// A frame the server sends every 15 s to keep the connection alive
  /// (SignalR's ping); nullopt = protocol-level pings only.
  virtual std::optional<std::string> keepalive() const { return std::nullopt; }
};

/// For an upgrade request: the endpoint to run, or the HTTP answer that
/// refuses the upgrade (401, 404, ...).
using ws_decision = std::variant<std::shared_ptr<ws_endpoint>, response>;
using ws_factory = std::function<ws_decision(request&)>;

} // namespace emporium::http
