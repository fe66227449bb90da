// The storefront's built files, with content types, an index.html fallback
// for client-side routes, and no way out of the static directory.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"
#include "http/security_headers.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace emporium::http {

namespace {

std::string content_type_of(const std::filesystem::path& p) {
  auto ext = to_lower(p.extension().string());
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".webp") return "image/webp";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace

void add_static_files(router& r, api_context& ctx) {
  r.set_fallback([&ctx](request& req, responder respond) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto root = fs::weakly_canonical(ctx.static_dir, ec);
    if (ec || !fs::is_directory(root, ec))
      return respond(error_response(errc::not_found, "the storefront is not built"));
    for (const auto& seg : split_path(req.path))
      if (seg == "..")
        return respond(error_response(errc::not_found, "not found"));
    auto relative = req.path.substr(1);
    auto target = fs::weakly_canonical(root / relative, ec);
    auto [mismatch, _] = std::mismatch(root.begin(), root.end(), target.begin(), target.end());
    if (ec || mismatch != root.end())
      return respond(error_response(errc::not_found, "not found"));
    if (fs::is_directory(target, ec))
      target /= "index.html";
    if (!fs::is_regular_file(target, ec)) {
      // A client route (/cart, /orders/7) gets the app; a missing asset is 404.
      if (fs::path{req.path}.has_extension())
        return respond(error_response(errc::not_found, "not found"));
      target = root / "index.html";
    }
    auto body = read_file(target);
    if (!body)
      return respond(error_response(errc::not_found, "not found"));
    response res;
    res.content_type = content_type_of(target);
    res.body = std::move(*body);
    // Vite names the page's scripts and styles by their content's hash, so
    // they may be kept; the page itself is asked for again, so that a new
    // build is picked up.
    bool page = target.filename() == "index.html";
    res.headers.emplace_back("Cache-Control", page ? "no-cache" : "public, max-age=3600");
    // The card form is Stripe's own script and frames: only a shop that takes
    // cards that way opens its page's policy to Stripe's origins.
    if (page && !ctx.payments.publishable_key.empty())
      res.headers.emplace_back("Content-Security-Policy", stripe_page_security_policy);
    respond(std::move(res));
  });
}

} // namespace emporium::http
