// SignalR JSON hub protocol (see signalr_protocol.hpp). Message types from
// the protocol specification: 1 invocation, 3 completion, 4 stream
// invocation, 5 cancel invocation, 6 ping, 7 close.
#include "http/live/signalr_protocol.hpp"

#include "support/json_field.hpp"

#include <optional>

namespace emporium::http::signalr {

namespace {

using nlohmann::json;

std::string record(const json& j) {
  // replace: a text echoed from the client (an invocation id) may hold
  // bytes that are not UTF-8; dump must not throw on them.
  return json_read::dump(j) + record_separator;
}

/// Ends the connection with the protocol's close message.
void close_with(connection& conn, reaction& out, const std::string& error) {
  out.frames.push_back(record({{"type", 7}, {"error", error}, {"allowReconnect", false}}));
  out.close = true;
  conn.closed = true;
}

void on_handshake(connection& conn, reaction& out, std::string_view text) {
  auto j = json_read::parse(text);
  auto protocol = j ? json_read::field<std::string>(*j, "protocol") : std::nullopt;
  auto version_field = j ? json_read::member(*j, "version") : nullptr;
  auto version = j ? json_read::field<std::int64_t>(*j, "version") : std::nullopt;
  std::string error;
  if (!j || !j->is_object())
    error = "Handshake was canceled: expected a JSON object.";
  else if (!protocol)
    error = "Handshake was canceled: 'protocol' must be a string.";
  else if (*protocol != "json")
    error = "The protocol '" + *protocol + "' is not supported; use 'json'.";
  else if (version_field != nullptr && version != 1)
    error = "The server does not support version " +
            (version ? std::to_string(*version) : std::string{"(not a number)"}) +
            " of the 'json' protocol.";
  if (!error.empty()) {
    out.frames.push_back(record({{"error", error}}));
    out.close = true;
    conn.closed = true;
    return;
  }
  conn.handshaken = true;
  out.frames.push_back(record(json::object()));
}

void complete(reaction& out, const std::optional<std::string>& id, const std::string& error) {
  if (!id)
    return; // a non-blocking invocation expects no completion
  json completion{{"type", 3}, {"invocationId", *id}};
  if (error.empty())
    completion["result"] = nullptr;
  else
    completion["error"] = error;
  out.frames.push_back(record(completion));
}

void on_invocation(connection& conn, reaction& out, const json& j, std::string_view user) {
  auto target = json_read::field<std::string>(j, "target");
  auto id_field = json_read::member(j, "invocationId");
  auto id = json_read::field<std::string>(j, "invocationId");
  auto args = json_read::member(j, "arguments");
  if (!target)
    return close_with(conn, out, "Invalid invocation: 'target' must be a string.");
  if (id_field != nullptr && !id_field->is_null() && !id)
    return close_with(conn, out, "Invalid invocation: 'invocationId' must be a string.");
  if (args == nullptr || !args->is_array())
    return close_with(conn, out, "Invalid invocation: 'arguments' must be an array.");
  if (*target == "JoinGroup") {
    auto wanted = json_read::item<std::string>(*args, 0);
    if (args->size() != 1 || !wanted)
      return complete(out, id, "JoinGroup expects one user id");
    if (*wanted != user)
      return complete(out, id, "Forbidden: a connection may only join its own user's group");
    if (!conn.joined) {
      conn.joined = true;
      out.change = subscription::join;
    }
    return complete(out, id, {});
  }
  if (*target == "LeaveGroup") {
    if (conn.joined) {
      conn.joined = false;
      out.change = subscription::leave;
    }
    return complete(out, id, {});
  }
  complete(out, id, "Unknown hub method '" + target->substr(0, 100) + "'");
}

void on_record(connection& conn, reaction& out, std::string_view text, std::string_view user) {
  if (!conn.handshaken)
    return on_handshake(conn, out, text);
  auto j = json_read::parse(text);
  if (!j || !j->is_object())
    return close_with(conn, out, "Invalid message: expected a JSON object.");
  auto type = json_read::field<int>(*j, "type");
  if (!type)
    return close_with(conn, out, "Invalid message: 'type' must be an integer.");
  switch (*type) {
    case 1: return on_invocation(conn, out, *j, user);
    case 4: { // stream invocation: this hub has no streaming methods
      auto id = json_read::field<std::string>(*j, "invocationId");
      if (!id)
        return close_with(conn, out, "Invalid stream invocation: 'invocationId' must be a string.");
      return complete(out, id, "Streaming is not supported by this hub.");
    }
    case 3: // completion of a client result: the server never asks for one
    case 5: // cancel invocation: nothing streams
    case 6: // ping
      return;
    case 7:
      out.close = true;
      conn.closed = true;
      return;
    default: return close_with(conn, out, "Invalid message: unknown type " + std::to_string(*type) + ".");
  }
}

} // namespace

reaction on_message(connection& conn, std::string_view text, std::string_view user) {
  reaction out;
  const bool was_joined = conn.joined;
  std::size_t start = 0;
  while (!conn.closed && start < text.size()) {
    auto end = text.find(record_separator, start);
    if (end == std::string_view::npos) {
      // An unterminated record waits for the rest in a later frame.
      if (conn.partial.size() + (text.size() - start) > max_record_bytes)
        close_with(conn, out, "Invalid message: a record longer than 65536 bytes.");
      else
        conn.partial.append(text.substr(start));
      break;
    }
    auto piece = text.substr(start, end - start);
    start = end + 1;
    if (!conn.partial.empty()) {
      if (conn.partial.size() + piece.size() > max_record_bytes) {
        close_with(conn, out, "Invalid message: a record longer than 65536 bytes.");
        break;
      }
      auto whole = std::move(conn.partial);
      conn.partial.clear();
      whole.append(piece);
      on_record(conn, out, whole, user);
    } else if (!piece.empty()) {
      on_record(conn, out, piece, user);
    }
  }
  if (conn.closed)
    conn.partial.clear();
  // What the message did as a whole: one message may join and leave again
  // (or leave and rejoin); each record's change alone would tell the hub
  // to leave a group it never joined, or to join one it is in.
  out.change = conn.joined == was_joined ? subscription::unchanged
               : conn.joined             ? subscription::join
                                         : subscription::leave;
  return out;
}

std::string ping_frame() {
  return std::string{"{\"type\":6}"} + record_separator;
}

} // namespace emporium::http::signalr
