// Configuration sources and their precedence.
#include "config/node_config.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

using namespace emporium;

namespace {
node_config loaded(int argc, const char* const* argv, const char* const* envp) {
  auto result = load_config(argc, argv, envp);
  auto* error = std::get_if<config_error>(&result);
  INFO((error ? error->message : std::string{}));
  REQUIRE(error == nullptr);
  return std::get<node_config>(result);
}

std::string refusal(int argc, const char* const* argv, const char* const* envp) {
  auto result = load_config(argc, argv, envp);
  auto* error = std::get_if<config_error>(&result);
  REQUIRE(error != nullptr);
  return error->message;
}
} // namespace

TEST_CASE("defaults, file, environment and flags apply in that order") {
  auto path = std::string{"/tmp/emporium-config-test.conf"};
  {
    std::ofstream out(path);
    out << "# a comment\nport = 9000\ndata-dir = /tmp/from-file  # trailing comment\n"
           "idle-timeout = 30\n";
  }
  const char* argv[] = {"emporium", "--config", path.c_str(), "--port", "9100", "--sync-full"};
  const char* envp[] = {"EMPORIUM_DATA_DIR=/tmp/from-env", "EMPORIUM_PORT=9050",
                        "PATH=/bin", nullptr};
  auto cfg = loaded(6, argv, envp);
  CHECK(cfg.port == 9100);
  CHECK(cfg.data_dir == "/tmp/from-env");
  CHECK(cfg.idle_timeout_s == 30);
  CHECK(cfg.sync_full);
  CHECK(cfg.bind == "127.0.0.1");
  std::remove(path.c_str());
}

TEST_CASE("bad keys and values are refused with the key named") {
  const char* env_none[] = {nullptr};
  const char* bad_port[] = {"emporium", "--port", "70000"};
  CHECK(refusal(3, bad_port, env_none).find("'port'") != std::string::npos);
  const char* unknown[] = {"emporium", "--colour=blue"};
  CHECK(refusal(2, unknown, env_none).find("colour") != std::string::npos);
  const char* argv[] = {"emporium"};
  const char* bad_env[] = {"EMPORIUM_MAX_RESIDENT=lots", nullptr};
  CHECK(refusal(1, argv, bad_env).find("EMPORIUM_MAX_RESIDENT") != std::string::npos);
  const char* origins[] = {"emporium", "--cors-origins=http://a:1, http://b:2"};
  auto cfg = loaded(2, origins, env_none);
  REQUIRE(cfg.cors_origins.size() == 2);
  CHECK(cfg.cors_origins[1] == "http://b:2");
  for (const char* seeds : {"--seeds=127.0.0.1", "--seeds=host:", "--seeds=a:1,b:x2"}) {
    const char* bad_seeds[] = {"emporium", seeds};
    CHECK(refusal(2, bad_seeds, env_none).find("'seeds'") != std::string::npos);
  }
  const char* cluster[] = {"emporium", "--seeds", "127.0.0.1:4241, 127.0.0.1:4242",
                           "--node-port", "4242", "--shards", "16"};
  cfg = loaded(7, cluster, env_none);
  CHECK(cfg.seeds == std::vector<std::string>{"127.0.0.1:4241", "127.0.0.1:4242"});
  CHECK(cfg.node_port == 4242);
  CHECK(cfg.shards == 16);
}

TEST_CASE("the example config file parses and documents every option") {
  const char* argv[] = {"emporium", "--config", EMPORIUM_SOURCE_DIR "/config/emporium.example.conf"};
  const char* env_none[] = {nullptr};
  auto cfg = loaded(3, argv, env_none);
  node_config defaults;
  CHECK(cfg.port == defaults.port);
  CHECK(cfg.data_dir == defaults.data_dir);
  CHECK(cfg.max_resident == defaults.max_resident);
  CHECK(cfg.cors_origins.empty());
  std::ifstream in(EMPORIUM_SOURCE_DIR "/config/emporium.example.conf");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto help = config_help();
  // Every option in --help appears as a key in the example file.
  std::size_t pos = 0;
  while ((pos = help.find("  --", pos)) != std::string::npos) {
    auto end = help.find(' ', pos + 4);
    auto key = help.substr(pos + 4, end - pos - 4);
    if (key != "config")
      CHECK_MESSAGE(text.find("\n" + key + " =") != std::string::npos, "missing key " << key);
    pos = end;
  }
}

TEST_CASE("hostile config text is refused with the line named, never thrown") {
  node_config cfg;
  CHECK(apply_config_text(cfg, "port = 9001\n# c\n\nbind = 0.0.0.0", "f") == std::nullopt);
  CHECK(cfg.port == 9001);
  CHECK(cfg.bind == "0.0.0.0");
  auto no_equals = apply_config_text(cfg, "port 9000\n", "f");
  REQUIRE(no_equals);
  CHECK(no_equals->find("f:1") != std::string::npos);
  auto nul = apply_config_text(cfg, std::string_view{"port = 1\0", 9}, "f");
  REQUIRE(nul);
  CHECK(nul->find("NUL") != std::string::npos);
  auto bad_number = apply_config_text(cfg, "\n\nthreads = 99999999999999999999999", "f");
  REQUIRE(bad_number);
  CHECK(bad_number->find("f:3") != std::string::npos);
  CHECK(apply_config_text(cfg, "payment-failure-rate = nan", "f").has_value());
  CHECK(apply_config_text(cfg, "= 1", "f").has_value());
  CHECK(cfg.port == 9001); // a refused text leaves what was set before
}

TEST_CASE("a publishable key is Stripe's, of the secret key's mode, and only with Stripe") {
  const char* env_test[] = {"EMPORIUM_STRIPE_SECRET_KEY=sk_test_abc123", nullptr};
  const char* env_live[] = {"EMPORIUM_STRIPE_SECRET_KEY=rk_live_abc123", nullptr};
  const char* env_none[] = {nullptr};

  const char* good[] = {"emporium", "--payment-provider=stripe",
                        "--stripe-publishable-key=pk_test_51Hx0abcDEF"};
  auto cfg = loaded(3, good, env_test);
  CHECK(cfg.stripe_publishable_key == "pk_test_51Hx0abcDEF");
  CHECK_FALSE(live_payments(cfg));

  const char* live[] = {"emporium", "--payment-provider=stripe",
                        "--stripe-publishable-key=pk_live_51Hx0abcDEF"};
  CHECK(live_payments(loaded(3, live, env_live)));
  // A mode mismatch would make every card the form produces fail to charge.
  CHECK(refusal(3, live, env_test).find("pk_live") == std::string::npos); // names modes, not keys
  CHECK(refusal(3, live, env_test).find("live key but stripe-secret-key is a test key") !=
        std::string::npos);
  CHECK(refusal(3, good, env_live).find("test key but stripe-secret-key is a live key") !=
        std::string::npos);

  // The test provider has no use for it.
  const char* no_stripe[] = {"emporium", "--stripe-publishable-key=pk_test_51Hx0abcDEF"};
  CHECK(refusal(2, no_stripe, env_none).find("needs payment-provider stripe") !=
        std::string::npos);

  // Only pk_test_/pk_live_ and letters and digits: it is written into JSON
  // and handed to Stripe.js.
  for (const char* bad : {"--stripe-publishable-key=sk_test_abc", "--stripe-publishable-key=pk_test_",
                          "--stripe-publishable-key=pk_test_a\"b", "--stripe-publishable-key=pk_x_abc",
                          "--stripe-publishable-key=pk_test_a b"}) {
    const char* argv[] = {"emporium", "--payment-provider=stripe", bad};
    CHECK_MESSAGE(refusal(3, argv, env_test).find("'stripe-publishable-key'") != std::string::npos,
                  bad);
  }
  // Not live: the test provider, and Stripe with a test or unknown key.
  const char* plain[] = {"emporium"};
  CHECK_FALSE(live_payments(loaded(1, plain, env_live)));
}
