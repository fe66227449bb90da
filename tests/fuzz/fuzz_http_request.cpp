// A raw HTTP request: bytes through Beast's parser (the server's limits),
// the request decoding (target, query, headers) and the router with every
// route and handler. Each complete request is answered with a valid status,
// never a 500 (the harness backend never fails), and never hangs; the
// answer's bytes (http/response_wire.hpp, with the request's Origin
// reflected as CORS does) read back as one whole response with the same
// status and body.
#include "edge_harness.hpp"
#include "http/request_decoder.hpp"
#include "http/response_wire.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <cstdlib>

namespace bhttp = boost::beast::http;
using namespace emporium;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& e = fuzz::shared_edge();
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(8 << 10);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  // Feed like a socket would: what the parser consumes, until it is done.
  while (used < size && !parser.is_done()) {
    auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec)
      return 0; // the server answers 400 and closes: nothing more runs
    if (n == 0)
      break;
    used += n;
  }
  if (!parser.is_done()) {
    if (!parser.got_some())
      return 0; // nothing parsed: the connection just ends
    parser.put_eof(ec);
    if (ec || !parser.is_done())
      return 0;
  }
  auto msg = parser.release();
  static const http::trusted_proxies proxies{{*http::parse_cidr("127.0.0.0/8")}};
  auto decoded = http::decode_request(msg, "127.0.0.1", proxies);
  if (auto* refused = std::get_if<http::response>(&decoded)) {
    // 400 malformed; 501 a Transfer-Encoding other than chunked.
    if (refused->status != 400 && refused->status != 501)
      std::abort();
    return 0;
  }
  auto& req = std::get<http::request>(decoded);
  if (req.path.empty() || req.path.front() != '/')
    std::abort();
  auto res = fuzz::run(e, req);
  if (res.status == 500)
    std::abort();
  bool head = req.method == "HEAD";
  auto wire = http::wire_response(res, {msg.version() == 10 ? 10u : 11u, msg.keep_alive(), head},
                                  {{"Access-Control-Allow-Origin", req.header("origin")}});
  bhttp::response_parser<bhttp::string_body> back;
  back.skip(head);
  back.eager(true);
  back.body_limit(wire.size());
  auto read = back.put(boost::asio::buffer(wire), ec);
  if (ec || !back.is_done() || read != wire.size() || back.get().result_int() != res.status)
    std::abort();
  bool bodiless = head || res.status < 200 || res.status == 204 || res.status == 304;
  if (back.get().body() != (bodiless ? std::string{} : res.body))
    std::abort();
  return 0;
}
