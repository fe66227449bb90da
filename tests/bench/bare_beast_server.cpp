// The floor under Emporium's edge: the least a Boost.Beast server does to
// answer HTTP/1.1 keep-alive GETs with a fixed body held in memory. One
// io_context and one SO_REUSEPORT acceptor per thread (the kernel spreads
// connections), no strands, no routing, no JSON. http_bench.sh runs it
// beside nginx and a node, answering the same bytes, so that what the edge
// costs shows as a ratio.
//   bare_beast_server <port> <body-file> [threads=2]
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket s, const std::string& body) : stream_(std::move(s)), body_(body) {}

  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec)
                         self->answer();
                     });
  }

private:
  void answer() {
    res_ = http::response<http::string_body>{http::status::ok, req_.version()};
    res_.set(http::field::server, "bare");
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = body_;
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->res_.keep_alive())
        self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  http::response<http::string_body> res_;
  const std::string& body_;
};

void accept(tcp::acceptor& acceptor, const std::string& body) {
  acceptor.async_accept([&acceptor, &body](beast::error_code ec, tcp::socket s) {
    if (!ec)
      std::make_shared<connection>(std::move(s), body)->read();
    accept(acceptor, body);
  });
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bare_beast_server <port> <body-file> [threads=2]\n";
    return 2;
  }
  auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string body = text.str();
  int threads = argc > 3 ? std::stoi(argv[3]) : 2;

  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([port, &body] {
      net::io_context ioc{1};
      tcp::acceptor acceptor{ioc};
      tcp::endpoint at{net::ip::make_address("127.0.0.1"), port};
      acceptor.open(at.protocol());
      acceptor.set_option(net::socket_base::reuse_address(true));
      acceptor.set_option(net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
      acceptor.bind(at);
      acceptor.listen(net::socket_base::max_listen_connections);
      accept(acceptor, body);
      ioc.run();
    });
  }
  for (auto& w : workers)
    w.join();
}
