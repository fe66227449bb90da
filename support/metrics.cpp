// The metrics registry and its text format (see metrics.hpp).
#include "support/metrics.hpp"

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace emporium::metrics {

void gauge::add(double d) noexcept {
  auto v = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(v, v + d, std::memory_order_relaxed)) {
  }
}

histogram::histogram(std::vector<double> bounds)
  : bounds_(std::move(bounds)),
    buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i])
    ++i; // le: a value equal to a bound is in that bucket
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  auto s = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(s, s + v, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // The shortest of 15 or 17 digits that reads back as the same number.
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v)
    std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void exposition::header(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) // help text: backslash and newline escaped
    out_ += c == '\n' ? std::string{"\\n"} : c == '\\' ? std::string{"\\\\"} : std::string{c};
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void exposition::sample(std::string_view name, const std::vector<std::string>& label_names,
                        const labels& values, double value) {
  out_ += name;
  if (!label_names.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0)
        out_ += ',';
      out_ += label_names[i];
      out_ += "=\"";
      out_ += escape_label(i < values.size() ? values[i] : std::string{});
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void exposition::single(std::string_view name, std::string_view help, std::string_view type,
                        double value) {
  header(name, help, type);
  sample(name, {}, {}, value);
}

namespace {

template <class Metric, class Make>
family<Metric>& find_or_add(std::vector<std::unique_ptr<family<Metric>>>& all, std::string name,
                            std::string help, std::vector<std::string> label_names, Make make) {
  for (auto& f : all)
    if (f->name() == name)
      return *f;
  all.push_back(std::make_unique<family<Metric>>(std::move(name), std::move(help),
                                                 std::move(label_names), std::move(make)));
  return *all.back();
}

} // namespace

family<counter>& registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> label_names) {
  std::lock_guard guard{mutex_};
  return find_or_add(counters_, std::move(name), std::move(help), std::move(label_names),
                     [] { return std::make_unique<counter>(); });
}

family<gauge>& registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  std::lock_guard guard{mutex_};
  return find_or_add(gauges_, std::move(name), std::move(help), std::move(label_names),
                     [] { return std::make_unique<gauge>(); });
}

family<histogram>& registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> bounds) {
  std::lock_guard guard{mutex_};
  return find_or_add(histograms_, std::move(name), std::move(help), std::move(label_names),
                     [bounds] { return std::make_unique<histogram>(bounds); });
}

void registry::add_collector(std::function<void(exposition&)> collect) {
  std::lock_guard guard{mutex_};
  collectors_.push_back(std::move(collect));
}

registry& default_registry() {
  static registry the_registry;
  return the_registry;
}

std::string registry::expose() const {
  std::lock_guard guard{mutex_};
  exposition out;
  for (const auto& f : counters_) {
    out.header(f->name(), f->help(), "counter");
    f->each([&](const labels& values, const counter& c) {
      out.sample(f->name(), f->label_names(), values, static_cast<double>(c.value()));
    });
  }
  for (const auto& f : gauges_) {
    out.header(f->name(), f->help(), "gauge");
    f->each([&](const labels& values, const gauge& g) {
      out.sample(f->name(), f->label_names(), values, g.value());
    });
  }
  for (const auto& f : histograms_) {
    out.header(f->name(), f->help(), "histogram");
    auto names = f->label_names();
    names.push_back("le");
    f->each([&](const labels& values, const histogram& h) {
      auto counts = h.counts();
      std::uint64_t cumulative = 0;
      auto with_le = values;
      with_le.push_back({});
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        with_le.back() = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        out.sample(f->name() + "_bucket", names, with_le, static_cast<double>(cumulative));
      }
      out.sample(f->name() + "_sum", f->label_names(), values, h.sum());
      // _count equals the +Inf bucket (read once above), as the format requires.
      out.sample(f->name() + "_count", f->label_names(), values, static_cast<double>(cumulative));
    });
  }
  for (const auto& collect : collectors_)
    collect(out);
  return out.take();
}

std::vector<point> registry::points(const std::vector<std::string>& names) const {
  auto wanted = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  std::lock_guard guard{mutex_};
  std::vector<point> out;
  for (const auto& f : counters_)
    if (wanted(f->name()))
      f->each([&](const labels& values, const counter& c) {
        if (c.value() > 0)
          out.push_back({f->name(), f->label_names(), values, static_cast<double>(c.value())});
      });
  for (const auto& f : gauges_)
    if (wanted(f->name()))
      f->each([&](const labels& values, const gauge& g) {
        out.push_back({f->name(), f->label_names(), values, g.value()});
      });
  for (const auto& f : histograms_)
    if (wanted(f->name()))
      f->each([&](const labels& values, const histogram& h) {
        auto counts = h.counts();
        std::uint64_t total = 0;
        for (auto n : counts)
          total += n;
        if (total > 0)
          out.push_back({f->name(), f->label_names(), values, h.sum(), total, h.bounds(),
                         std::move(counts)});
      });
  return out;
}

} // namespace emporium::metrics
