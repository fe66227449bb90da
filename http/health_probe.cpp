// The readiness probe command (see health_probe.hpp).
#include "http/health_probe.hpp"

#include "support/name_lookup.hpp"
#include "support/tcp_endpoints.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

int run_health_probe(int argc, char** argv) {
  const char* port = std::getenv("EMPORIUM_PORT");
  std::string url = std::string{"http://127.0.0.1:"} + (port && *port ? port : "8080") +
                    "/health/ready";
  long timeout_ms = 2000;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view key = argv[i];
    if (key == "--url")
      url = argv[i + 1];
    else if (key == "--timeout-ms")
      timeout_ms = std::strtol(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: emporium healthcheck [--url http://host:port/path] "
                           "[--timeout-ms n]\n");
      return 2;
    }
  }
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0 || timeout_ms <= 0) {
    std::fprintf(stderr, "healthcheck: the URL must start with http://\n");
    return 2;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto target = slash == std::string::npos ? std::string{"/"} : rest.substr(slash);
  auto colon = authority.rfind(':');
  auto host = authority.substr(0, colon);
  auto service = colon == std::string::npos ? std::string{"80"} : authority.substr(colon + 1);
  unsigned long port_number = 0;
  if (service.find_first_not_of("0123456789") == std::string::npos && service.size() <= 5)
    port_number = std::strtoul(service.c_str(), nullptr, 10);
  if (port_number == 0 || port_number > 65535) {
    std::fprintf(stderr, "healthcheck: the URL's port must be a number from 1 to 65535\n");
    return 2;
  }

  // Everything under one deadline, the name lookup included (name_lookups:
  // asio's resolver ran getaddrinfo past it, and the probe's exit waited
  // for a nameserver that did not answer): a node that accepts and never
  // answers is unhealthy, not a hung probe.
  auto limit = std::chrono::milliseconds(timeout_ms);
  auto until = std::chrono::steady_clock::now() + limit;
  auto found = emporium::name_lookups::system().resolve(
    host, static_cast<std::uint16_t>(port_number), limit);
  auto endpoints = emporium::tcp_endpoints(found);
  if (endpoints.empty()) {
    std::fprintf(stderr, "healthcheck: %s: resolve: %s\n", url.c_str(), found.error.c_str());
    return 1;
  }
  net::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, authority);
  req.set(bhttp::field::user_agent, "emporium-healthcheck");
  bhttp::response<bhttp::string_body> res;
  int status = 0;
  std::string error;
  stream.expires_at(until);
  stream.async_connect(endpoints, [&](auto ec, auto) {
    if (ec)
      return void(error = ec.message());
    bhttp::async_write(stream, req, [&](auto ec, auto) {
      if (ec)
        return void(error = ec.message());
      bhttp::async_read(stream, buffer, res, [&](auto ec, auto) {
        if (ec)
          return void(error = ec.message());
        status = static_cast<int>(res.result_int());
      });
    });
  });
  io.run_until(until + std::chrono::milliseconds(500));
  if (status == 200)
    return 0;
  std::fprintf(stderr, "healthcheck: %s: %s\n", url.c_str(),
               status ? ("HTTP " + std::to_string(status)).c_str()
                      : (error.empty() ? "timed out" : error.c_str()));
  return 1;
}

} // namespace emporium::http
