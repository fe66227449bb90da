// Open-loop mixed load (issue 18's mixed row): catalog queries, cart adds
// and socket resumes, each on its own schedule at its own offered rate
// (Poisson), latency from the intended arrival (open_loop.hpp). The orders
// of the mixed row come from order_open_loop, run beside it by
// mixed_bench.sh. Every answer is checked and every failure kept:
// `failed` (an answer other than 200, by status on stderr), `timed out`
// (no answer within the per-call timeout, or the call waited that long in
// the backlog), `errors` (a broken connection).
//
// - catalog: GET /api/products with one of a few realistic queries (a
//   category, a price cap, a search, a sorted page);
// - cart add: POST /api/cart/add of one unit of a random product (of 200)
//   by a random one of `users` users;
// - resume: what a browser does after a dropped connection: a new socket
//   (TCP, upgrade, token check), then {"resume": seq} and the replay of
//   what it missed: each of the 100 resuming users places one order first,
//   and resumes from just before that order's first event (its 4 events
//   are replayed, whatever history the data directory holds).
//
// Usage: mixed_open_loop <port> <seconds> <admin-email> <admin-password>
//          <catalog/s> <adds/s> <resumes/s> [users=2000] [first-user=1000] [timeout-s=5]
// Users are taken from ORDER_LOAD_TOKENS (load_client.hpp) from index
// `first-user` on, so that an order_open_loop with fewer buyers beside it
// never shares one. Prints one line per stream: "stream {json}".
// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include "open_loop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/websocket.hpp>

#include <map>

namespace {

using namespace load;
using ws_stream = beast::websocket::stream<beast::tcp_stream>;

enum class kind { catalog, cart_add, resume };

struct stream_tally {
  std::string name;
  double rate = 0;
  long arrivals = 0, ok = 0, failed = 0, timed_out = 0, errors = 0;
  std::vector<double> latencies_ms; // of the calls answered 200 inside the window
  std::map<int, long> statuses;     // of the failed ones
  std::map<std::string, long> broken; // errors, by what broke
};

struct setup {
  unsigned short port = 0;
  clock_type::duration timeout = std::chrono::seconds(5);
  clock_type::time_point stop;
  std::vector<std::string> queries;
  std::vector<std::string> cart_tokens;
  std::vector<std::string> resume_tokens;
  std::vector<long> resume_last_seq; // the user's last event, 0 if its setup failed
  std::vector<long> resume_from;     // its setup order's first event (resumed from the one before)
};

tcp::endpoint node_of(const setup& su) {
  return {net::ip::make_address("127.0.0.1"), su.port};
}

/// The "seq" of an event frame, 0 for another frame.
long seq_of(const beast::flat_buffer& buf) {
  auto e = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
  return e.is_object() ? e.value("seq", 0L) : 0L;
}

/// A resuming user's order, placed before the measurement: its last event's
/// seq is what each resume waits for.
net::awaitable<void> prepare_resumer(const setup& su, std::size_t i, long& first_seq,
                                     long& last_seq) {
  auto ex = co_await net::this_coro::executor;
  try {
    const buyer_calls calls{su.resume_tokens[i]};
    ws_stream ws{ex};
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    co_await beast::get_lowest_layer(ws).async_connect(node_of(su), net::use_awaitable);
    co_await ws.async_handshake(calls.host, calls.socket_target, net::use_awaitable);
    beast::tcp_stream api{ex};
    api.expires_after(std::chrono::seconds(30));
    co_await api.async_connect(node_of(su), net::use_awaitable);
    beast::flat_buffer buf;
    json line{{"productId", 1 + static_cast<int>(i % 200)}, {"quantity", 1}};
    http::response<http::string_body> res;
    for (const auto* target : {&calls.add_target, &calls.place_target}) {
      co_await http::async_write(api,
                                 make_request(http::verb::post, *target,
                                              target == &calls.add_target ? line : calls.place_body,
                                              calls.token),
                                 net::use_awaitable);
      res = {};
      co_await http::async_read(api, buf, res, net::use_awaitable);
      if (res.result_int() != 200)
        throw std::runtime_error(fmt::format("{} answered {}", *target, res.result_int()));
    }
    auto id = json::parse(res.body(), nullptr, false).value("orderId", 0L);
    beast::flat_buffer frame;
    for (;;) {
      co_await ws.async_read(frame, net::use_awaitable);
      auto e = json::parse(beast::buffers_to_string(frame.data()), nullptr, false);
      frame.consume(frame.size());
      auto status = e.is_object() ? e.value("status", "") : std::string{};
      if (e.is_object() && e.value("orderId", 0L) == id && first_seq == 0)
        first_seq = e.value("seq", 0L);
      if (e.is_object() && e.value("orderId", 0L) == id &&
          (status == "Confirmed" || status == "Cancelled")) {
        last_seq = e.value("seq", 0L);
        break;
      }
    }
    beast::get_lowest_layer(ws).close();
  } catch (const std::exception& e) {
    fmt::print(stderr, "resuming user {}: setup: {}\n", i, e.what());
  }
}

/// One call of the stream's kind; throws on a broken connection or a
/// timeout. Answers the HTTP status (200 for a completed resume).
net::awaitable<int> one_call(kind k, const setup& su, std::optional<beast::tcp_stream>& api,
                             clock_type::time_point& api_used, beast::flat_buffer& buf,
                             std::mt19937_64& rng,
                             clock_type::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  auto pick = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng);
  };
  if (k == kind::resume) {
    std::size_t r;
    do
      r = pick(su.resume_tokens.size());
    while (su.resume_last_seq[r] == 0);
    const buyer_calls calls{su.resume_tokens[r]};
    ws_stream ws{ex};
    beast::get_lowest_layer(ws).expires_at(deadline);
    co_await beast::get_lowest_layer(ws).async_connect(node_of(su), net::use_awaitable);
    co_await ws.async_handshake(calls.host, calls.socket_target, net::use_awaitable);
    const std::string resume = fmt::format(R"({{"resume":{}}})", su.resume_from[r] - 1);
    co_await ws.async_write(net::buffer(resume), net::use_awaitable);
    beast::flat_buffer frame;
    while (seq_of(frame) < su.resume_last_seq[r]) {
      frame.consume(frame.size());
      co_await ws.async_read(frame, net::use_awaitable);
    }
    beast::get_lowest_layer(ws).close();
    co_return 200;
  }
  drop_if_idle(api, api_used);
  if (!api) {
    api.emplace(ex);
    buf.clear();
    api->expires_at(deadline);
    co_await api->async_connect(node_of(su), net::use_awaitable);
  }
  api->expires_at(deadline);
  auto req = k == kind::catalog
               ? make_request(http::verb::get, su.queries[pick(su.queries.size())], nullptr, "")
               : make_request(http::verb::post, "/api/cart/add",
                              json{{"productId", 1 + static_cast<int>(pick(200))}, {"quantity", 1}},
                              su.cart_tokens[pick(su.cart_tokens.size())]);
  co_await http::async_write(*api, req, net::use_awaitable);
  http::response<http::string_body> res;
  co_await http::async_read(*api, buf, res, net::use_awaitable);
  if (!res.keep_alive())
    api.reset();
  co_return res.result_int();
}

net::awaitable<void> worker(int i, kind k, const setup& su, pool& p, stream_tally& t) {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer wake{ex};
  std::optional<beast::tcp_stream> api;
  clock_type::time_point api_used{};
  beast::flat_buffer buf;
  std::mt19937_64 rng{static_cast<std::uint64_t>(i) * 7919 + static_cast<std::uint64_t>(k)};
  const bool never = false;
  for (;;) {
    auto job = co_await p.next_job(i, wake, never);
    if (!job)
      break;
    auto intended = *job;
    auto deadline = intended + su.timeout;
    if (clock_type::now() >= deadline) {
      ++t.timed_out; // waited out its whole timeout in the backlog: not sent
      continue;
    }
    try {
      auto status = co_await one_call(k, su, api, api_used, buf, rng, deadline);
      auto now = clock_type::now();
      if (status != 200) {
        ++t.failed;
        ++t.statuses[status];
      } else if (now <= su.stop) {
        ++t.ok;
        t.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - intended).count());
      } else {
        ++t.ok; // answered after the window: counted, not in the latencies
      }
    } catch (const std::exception& e) {
      if (clock_type::now() >= deadline) {
        ++t.timed_out;
      } else {
        ++t.errors;
        ++t.broken[e.what()];
      }
      api.reset();
    }
  }
  --p.running;
}

void print(stream_tally& t, double seconds) {
  auto& lat = t.latencies_ms;
  std::sort(lat.begin(), lat.end());
  json statuses = json::object();
  for (auto [status, n] : t.statuses)
    statuses[std::to_string(status)] = n;
  fmt::print("stream {}\n",
             json{{"name", t.name}, {"offered", t.rate}, {"arrivals", t.arrivals},
                  {"ok_per_s", static_cast<double>(lat.size()) / seconds},
                  {"p50", quantile(lat, 0.5)}, {"p99", quantile(lat, 0.99)},
                  {"max", lat.empty() ? 0.0 : lat.back()}, {"ok", t.ok}, {"failed", t.failed},
                  {"timed_out", t.timed_out}, {"errors", t.errors}, {"statuses", statuses}}
               .dump());
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    fmt::print(stderr, "usage: mixed_open_loop <port> <seconds> <admin-email> <admin-password> "
                       "<catalog/s> <adds/s> <resumes/s> [users=2000] [first-user=1000] "
                       "[timeout-s=5]\n");
    return 2;
  }
  setup su;
  su.port = static_cast<unsigned short>(std::atoi(argv[1]));
  double seconds = std::atof(argv[2]);
  double rates[] = {std::atof(argv[5]), std::atof(argv[6]), std::atof(argv[7])};
  int users = argc > 8 ? std::max(1, std::atoi(argv[8])) : 2000;
  int first = argc > 9 ? std::max(0, std::atoi(argv[9])) : 1000;
  su.timeout = std::chrono::seconds(argc > 10 ? std::max(1, std::atoi(argv[10])) : 5);
  const int resumers = 100;

  stock_products(su.port, admin_token(su.port, argv[3], argv[4]), 200, 1'000'000);
  auto tokens = buyer_tokens(su.port, first + resumers + users);
  if (!tokens)
    return 1;
  su.resume_tokens.assign(tokens->begin() + first, tokens->begin() + first + resumers);
  su.cart_tokens.assign(tokens->begin() + first + resumers, tokens->end());
  {
    setup_client client{su.port};
    auto categories = client.call(http::verb::get, "/api/products/categories", nullptr);
    for (const auto& c : categories) {
      auto name = c.get<std::string>();
      for (auto& ch : name)
        if (ch == ' ')
          ch = '+';
      su.queries.push_back("/api/products?category=" + name);
      su.queries.push_back("/api/products?category=" + name + "&maxPrice=25");
    }
    for (const char* q : {"/api/products?search=kettle", "/api/products?search=lamp",
                          "/api/products?page=2&pageSize=20&sortBy=price&sortOrder=desc",
                          "/api/products?page=1&pageSize=12"})
      su.queries.emplace_back(q);
  }

  net::io_context ioc{1};
  su.resume_last_seq.assign(resumers, 0);
  su.resume_from.assign(resumers, 0);
  if (rates[2] > 0) {
    for (std::size_t i = 0; i < su.resume_tokens.size(); ++i)
      net::co_spawn(ioc, prepare_resumer(su, i, su.resume_from[i], su.resume_last_seq[i]),
                    net::detached);
    ioc.run();
    ioc.restart();
    if (std::count(su.resume_last_seq.begin(), su.resume_last_seq.end(), 0L) == resumers) {
      fmt::print(stderr, "no resuming user could place its order\n");
      return 1;
    }
  }

  const char* names[] = {"catalog query", "cart add", "socket resume"};
  // Workers per stream: enough that the generator is never what waits (a
  // resume holds its worker for a whole connection).
  const int workers[] = {256, 256, 64};
  auto start = clock_type::now() + std::chrono::milliseconds(500);
  su.stop = start + std::chrono::duration_cast<clock_type::duration>(
                      std::chrono::duration<double>(seconds));
  std::vector<std::unique_ptr<pool>> pools;
  std::vector<stream_tally> tallies(3);
  for (int s = 0; s < 3; ++s) {
    tallies[s].name = names[s];
    tallies[s].rate = rates[s];
    if (rates[s] <= 0)
      continue;
    pools.push_back(std::make_unique<pool>(workers[s]));
    auto& p = *pools.back();
    p.rng.seed(static_cast<std::uint64_t>(s) + 1);
    for (int i = 0; i < workers[s]; ++i)
      net::co_spawn(ioc, worker(i, static_cast<kind>(s), su, p, tallies[s]), net::detached);
    net::co_spawn(ioc, dispatcher({rates[s], true, start, su.stop}, p, tallies[s].arrivals),
                  net::detached);
  }
  ioc.run();
  for (int s = 0; s < 3; ++s) {
    if (rates[s] > 0)
      print(tallies[s], seconds);
    for (auto [status, n] : tallies[s].statuses)
      fmt::print(stderr, "{}: {} answered {}\n", names[s], n, status);
    for (const auto& [what, n] : tallies[s].broken)
      fmt::print(stderr, "{}: {} broken: {}\n", names[s], n, what);
  }
  return 0;
}
