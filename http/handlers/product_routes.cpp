// /api/products: queries from the in-memory read model (never an actor or
// SQLite), admin writes through the catalog actor and the stock actors.
#include "http/api_context.hpp"
#include "http/auth/credentials.hpp"
#include "http/json_input.hpp"
#include "http/listing_cache.hpp"
#include "http/response_helpers.hpp"
#include "support/metrics.hpp"

#include <cmath>
#include <fmt/format.h>

namespace emporium::http {

namespace {

std::optional<double> parse_number(const std::string& text) {
  if (text.empty() || text.size() > 32)
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

/// Reads the query string into a catalog_query; nullopt after answering 400.
std::optional<catalog_query> read_query(const request& req, responder& respond) {
  catalog_query q;
  q.search = req.query_param("search").value_or("");
  q.category = req.query_param("category").value_or("");
  for (auto [name, target] : {std::pair{"minprice", &q.min_price},
                              std::pair{"maxprice", &q.max_price}}) {
    if (auto text = req.query_param(name)) {
      auto value = parse_number(*text);
      auto amount = value ? cents_from_decimal(*value) : std::nullopt;
      if (!amount) {
        respond(field_error(name == std::string{"minprice"} ? "minPrice" : "maxPrice",
                            "must be a non-negative number"));
        return std::nullopt;
      }
      *target = amount;
    }
  }
  auto page = req.query_param("page");
  auto size = req.query_param("pagesize");
  if (page || size) {
    auto p = parse_positive_id(page.value_or("1"));
    auto s = parse_positive_id(size.value_or("20"));
    if (!p || *p > 1'000'000) {
      respond(field_error("page", "must be an integer >= 1"));
      return std::nullopt;
    }
    if (!s || *s > 100) {
      respond(field_error("pageSize", "must be an integer between 1 and 100"));
      return std::nullopt;
    }
    q.page = static_cast<std::size_t>(*p);
    q.page_size = static_cast<std::size_t>(*s);
  }
  if (auto sort = req.query_param("sortby")) {
    auto key = to_lower(*sort);
    if (key == "stockquantity")
      key = "stock";
    if (key != "id" && key != "name" && key != "price" && key != "stock") {
      respond(field_error("sortBy", "must be one of id, name, price, stockQuantity"));
      return std::nullopt;
    }
    q.sort_by = key;
  }
  if (auto order = req.query_param("sortorder")) {
    auto dir = to_lower(*order);
    if (dir != "asc" && dir != "desc") {
      respond(field_error("sortOrder", "must be asc or desc"));
      return std::nullopt;
    }
    q.descending = dir == "desc";
  }
  return q;
}

/// Each I/O thread's answered listings (http/listing_cache.hpp): 512 of
/// them, 8 MiB at most, per thread.
listing_cache& thread_listings() {
  thread_local listing_cache cache{512, std::size_t{8} << 20};
  return cache;
}

/// Listings answered from the cache ("cached") or by the read model
/// ("rendered"): a low share cached means the catalog changes faster than
/// its listings are asked, or the asked listings outgrow the cache.
metrics::counter& listings_answered(bool cached) {
  static auto& family = metrics::default_registry().counter_family(
    "emporium_catalog_listings_total",
    "Catalog listings answered, from the per-thread cache (cached) or by the read model "
    "(rendered)",
    {"answer"});
  static auto& from_cache = family.with({"cached"});
  static auto& rendered = family.with({"rendered"});
  return cached ? from_cache : rendered;
}

/// A listing and the read model's version it was answered at.
struct rendered_listing {
  std::uint64_t version = 0;
  cached_listing answer;
};

/// The listing's JSON array, as the read model answers `q` now.
rendered_listing render_listing(api_context& ctx, const catalog_query& q) {
  auto page = ctx.catalog.query(q);
  rendered_listing out;
  out.version = page.snapshot->version;
  out.answer.total = page.total;
  auto& body = out.answer.body;
  body = "[";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0)
      body += ',';
    body += page.items[i]->json;
  }
  body += ']';
  return out;
}

void list_products(api_context& ctx, request& req, responder respond) {
  auto q = read_query(req, respond);
  if (!q)
    return;
  auto& cache = thread_listings();
  auto key = listing_key(*q);
  response res;
  std::size_t total = 0;
  if (const auto* kept = cache.find(key, ctx.catalog.version())) {
    res.body = kept->body;
    total = kept->total;
    listings_answered(true).inc();
  } else {
    auto fresh = render_listing(ctx, *q);
    total = fresh.answer.total;
    if (cache.keeps(key.size(), fresh.answer.body.size())) {
      res.body = fresh.answer.body;
      cache.put(std::move(key), fresh.version, std::move(fresh.answer));
    } else {
      res.body = std::move(fresh.answer.body); // a whole large catalog: not copied
    }
    listings_answered(false).inc();
  }
  res.headers.emplace_back("X-Total-Count", std::to_string(total));
  if (q->page_size > 0) {
    auto pages = (total + q->page_size - 1) / q->page_size;
    std::string link;
    auto add = [&](std::size_t p, const char* rel) {
      if (!link.empty())
        link += ", ";
      link += fmt::format("</api/products?page={}&pageSize={}>; rel=\"{}\"", p, q->page_size,
                          rel);
    };
    add(1, "first");
    if (q->page > 1)
      add(q->page - 1, "prev");
    if (q->page < pages)
      add(q->page + 1, "next");
    add(std::max<std::size_t>(pages, 1), "last");
    res.headers.emplace_back("Link", link);
  }
  respond(std::move(res));
}

/// Finds the product named by the first path parameter; 400/404 otherwise.
const catalog_item* product_from_path(const catalog_snapshot& snap, const request& req,
                                      responder& respond) {
  auto id = parse_positive_id(req.params.at(0));
  if (!id) {
    respond(field_error("id", "must be a positive integer"));
    return nullptr;
  }
  auto item = snap.find(*id);
  if (item == nullptr)
    respond(error_response(errc::not_found, fmt::format("Product {} not found", *id)));
  return item;
}

void get_product(api_context& ctx, request& req, responder respond) {
  auto snap = ctx.catalog.snapshot();
  if (auto item = product_from_path(*snap, req, respond)) {
    response res;
    res.body = item->json;
    respond(std::move(res));
  }
}

void get_price(api_context& ctx, request& req, responder respond) {
  auto snap = ctx.catalog.snapshot();
  if (auto item = product_from_path(*snap, req, respond))
    respond(json_response(cents_to_decimal(item->product.price)));
}

void categories(api_context& ctx, request&, responder respond) {
  respond(json_response(ctx.catalog.snapshot()->categories));
}

/// The product an admin call names: 401/403/400/404 answered otherwise.
/// A copy, so it stays valid after the snapshot is gone. `admin`, when
/// given, receives the caller's claims.
std::optional<catalog_item> admin_target(api_context& ctx, request& req, responder& respond,
                                         token_claims* admin = nullptr) {
  auto claims = authenticate_admin(ctx, req, respond);
  if (!claims)
    return std::nullopt;
  if (admin)
    *admin = *claims;
  auto snap = ctx.catalog.snapshot();
  auto item = product_from_path(*snap, req, respond);
  if (!item)
    return std::nullopt;
  return *item;
}

/// Reads a product body; `partial` keeps fields that are absent.
std::optional<product_record> read_product(json_input& in, product_record base, bool partial) {
  auto name = in.text("name", !partial, 200);
  auto description = in.text("description", false, 4000);
  auto price = in.money("price", !partial);
  auto category = in.text("category", false, 100);
  if (!in.ok())
    return std::nullopt;
  if (name)
    base.name = *name;
  if (description)
    base.description = *description;
  if (price)
    base.price = *price;
  if (category)
    base.category = *category;
  return base;
}

nlohmann::json stock_json(product_id id, const stock_view& v) {
  return {{"productId", id},
          {"onHand", v.on_hand},
          {"available", v.available},
          {"reserved", v.reserved},
          {"sold", v.sold},
          {"stockQuantity", v.available}};
}

void create_product(api_context& ctx, request& req, responder respond) {
  if (!authenticate_admin(ctx, req, respond))
    return;
  json_input in(req.body);
  auto p = read_product(in, {}, false);
  auto stock = in.integer("stockQuantity", false, 0, 1'000'000'000);
  if (!in.ok())
    return respond(in.take_error());
  if (p->name.empty())
    return respond(field_error("name", "must not be empty"));
  ctx.actors.create_product(*p, [&ctx, stock, respond](errc ec, product_record created) {
    if (ec != errc::none)
      return respond(error_response(ec, "could not create the product"));
    response body;
    body.status = 201;
    body.body = render_product_json(created, stock.value_or(0));
    if (!stock)
      return respond(std::move(body));
    ctx.actors.stock(created.id, {stock_command::op::set, *stock},
                     [&ctx, id = created.id, respond, body](errc ec, stock_view v) {
                       if (ec != errc::none)
                         return respond(error_response(ec, "product created, stock not set"));
                       ctx.catalog.set_stock({{id, v.available}}); // read your own write
                       respond(body);
                     });
  });
}

void update_product(api_context& ctx, request& req, responder respond) {
  auto item = admin_target(ctx, req, respond);
  if (!item)
    return;
  json_input in(req.body);
  auto p = read_product(in, item->product, true);
  if (!in.ok())
    return respond(in.take_error());
  if (p->name.empty())
    return respond(field_error("name", "must not be empty"));
  auto stock = item->stock;
  ctx.actors.update_product(*p, [respond, stock](errc ec, product_record u) {
    if (ec != errc::none)
      return respond(error_response(ec, "could not update the product"));
    response res;
    res.body = render_product_json(u, stock);
    respond(std::move(res));
  });
}

void delete_product(api_context& ctx, request& req, responder respond) {
  auto item = admin_target(ctx, req, respond);
  if (!item)
    return;
  ctx.actors.delete_product(item->product.id, [respond](errc ec, bool deleted) {
    if (ec != errc::none)
      return respond(error_response(ec, "could not delete the product"));
    if (!deleted)
      return respond(error_response(errc::not_found, "Product not found"));
    respond(message_response("Product deleted"));
  });
}

void set_stock(api_context& ctx, request& req, responder respond) {
  auto item = admin_target(ctx, req, respond);
  if (!item)
    return;
  json_input in(req.body);
  auto quantity = in.integer("quantity", !in.has("stockQuantity"), 0, 1'000'000'000);
  if (!quantity)
    quantity = in.integer("stockQuantity", true, 0, 1'000'000'000);
  if (!in.ok())
    return respond(in.take_error());
  auto id = item->product.id;
  ctx.actors.stock(id, {stock_command::op::set, *quantity}, [&ctx, respond, id](errc ec, stock_view v) {
    if (ec == errc::insufficient_stock)
      return respond(error_response(ec, "on-hand cannot go below what is reserved"));
    if (ec != errc::none)
      return respond(error_response(ec, "could not set stock"));
    // The stock actor's event reaches the read model asynchronously; the
    // admin who just wrote should read the new value at once on this node.
    ctx.catalog.set_stock({{id, v.available}});
    respond(json_response(stock_json(id, v)));
  });
}

/// Lowers on-hand by `quantity`. An Idempotency-Key makes a client's retry
/// safe: the record applies each key's adjustment once (the repeat answers
/// the record as it is now; the key with another quantity is a 409).
void reduce_stock(api_context& ctx, request& req, responder respond) {
  token_claims admin;
  auto item = admin_target(ctx, req, respond, &admin);
  if (!item)
    return;
  json_input in(req.body);
  auto quantity = in.integer("quantity", true, 1, 1'000'000'000);
  if (!in.ok())
    return respond(in.take_error());
  auto key = req.header("idempotency-key");
  if (key.size() > 200)
    return respond(field_error("Idempotency-Key", "is longer than 200 characters"));
  auto id = item->product.id;
  stock_command cmd{stock_command::op::adjust, -*quantity};
  if (!key.empty())
    cmd.id = operation_id_for_key("reduce-stock", admin.user_id, key);
  ctx.actors.stock(id, cmd, [&ctx, respond, id](errc ec, stock_view v) {
    if (ec == errc::insufficient_stock)
      return respond(error_response(errc::insufficient_stock, "Insufficient stock", 400));
    if (ec == errc::conflict)
      return respond(error_response(ec, "Idempotency-Key was used with a different request"));
    if (ec != errc::none)
      return respond(error_response(ec, "could not reduce stock"));
    ctx.catalog.set_stock({{id, v.available}});
    auto body = stock_json(id, v);
    body["message"] = "Stock reduced";
    respond(json_response(body));
  });
}

} // namespace

void add_product_routes(router& r, api_context& ctx) {
  r.add("GET", "/api/products", with_context(ctx, list_products));
  r.add("GET", "/api/products/categories", with_context(ctx, categories));
  r.add("GET", "/api/products/{id}", with_context(ctx, get_product));
  r.add("GET", "/api/products/{id}/price", with_context(ctx, get_price));
  r.add("POST", "/api/products", with_context(ctx, create_product));
  r.add("PUT", "/api/products/{id}", with_context(ctx, update_product));
  r.add("DELETE", "/api/products/{id}", with_context(ctx, delete_product));
  r.add("PUT", "/api/products/{id}/stock", with_context(ctx, set_stock));
  r.add("POST", "/api/products/{id}/reduce-stock", with_context(ctx, reduce_stock));
}

} // namespace emporium::http
