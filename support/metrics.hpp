// A small metrics registry exposed in the Prometheus text format (0.0.4).
// No Debian package offers a Prometheus client for C++ and CAF 0.17 has no
// telemetry, so it is kept to what the node needs: counters, gauges and
// histograms, each a family with fixed label names. A cell (one label
// combination) is created once, under a lock, and then updated with relaxed
// atomics only: hot paths keep a reference to their cells and never lock.
// Values computed at scrape time (process figures, cluster health) come from
// collectors, called while the text is written.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::metrics {

class counter {
public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0};
};

/// Observations in seconds (or bytes, or counts) into fixed buckets.
class histogram {
public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Per bucket (not cumulative), the last one being +Inf.
  std::vector<std::uint64_t> counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

/// Bucket bounds for durations in seconds: 0.5 ms to 10 s.
std::vector<double> latency_buckets();

using labels = std::vector<std::string>;

/// All cells of one metric name, one per label combination.
template <class Metric>
class family {
public:
  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
      make_(std::move(make)) {}

  /// The cell for these label values (as many as label names), made on
  /// first use. Keep the reference: it lives as long as the registry.
  Metric& with(const labels& values) {
    std::lock_guard guard{mutex_};
    auto& cell = cells_[values];
    if (!cell)
      cell = make_();
    return *cell;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  template <class Fn>
  void each(Fn fn) const {
    std::lock_guard guard{mutex_};
    for (const auto& [values, cell] : cells_)
      fn(values, *cell);
  }

private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mutex_;
  std::map<labels, std::unique_ptr<Metric>> cells_;
};

/// Writes samples in the text format; collectors use it at scrape time.
class exposition {
public:
  /// # HELP and # TYPE lines of a metric whose samples follow.
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const std::vector<std::string>& label_names,
              const labels& values, double value);
  /// A metric of one sample without labels, header included.
  void single(std::string_view name, std::string_view help, std::string_view type,
              double value);
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

/// One series of the registry as plain values, for GET /api/admin/stats
/// (the same figures as /metrics, typed instead of text).
struct point {
  std::string name;
  std::vector<std::string> label_names, label_values;
  double value = 0;                   ///< a counter's or gauge's value; a histogram's sum
  std::uint64_t count = 0;            ///< a histogram's observations
  std::vector<double> bounds;         ///< a histogram's upper bounds (+Inf after the last)
  std::vector<std::uint64_t> buckets; ///< per bucket, not cumulative; +Inf last
};

class registry {
public:
  family<counter>& counter_family(std::string name, std::string help,
                                  std::vector<std::string> label_names = {});
  family<gauge>& gauge_family(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  family<histogram>& histogram_family(std::string name, std::string help,
                                      std::vector<std::string> label_names = {},
                                      std::vector<double> bounds = latency_buckets());
  counter& counter_of(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help)).with({});
  }
  gauge& gauge_of(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help)).with({});
  }

  /// Called on every scrape, after the families, to add computed metrics.
  void add_collector(std::function<void(exposition&)> collect);

  /// The whole registry in the text format.
  std::string expose() const;

  /// The series of the metrics named in `names`, leaving out counters at
  /// zero and histograms without observations (computed metrics excluded).
  std::vector<point> points(const std::vector<std::string>& names) const;

private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family<counter>>> counters_;
  std::vector<std::unique_ptr<family<gauge>>> gauges_;
  std::vector<std::unique_ptr<family<histogram>>> histograms_;
  std::vector<std::function<void(exposition&)>> collectors_;
};

/// The node's registry (one per process, as Prometheus clients have).
registry& default_registry();

/// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label(std::string_view value);

/// A number as the text format writes it (integers without a fraction,
/// +Inf, -Inf, NaN).
std::string format_value(double v);

} // namespace emporium::metrics
