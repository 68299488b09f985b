// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text exposition format
// (version 0.0.4) for GET /metrics. Thread-safe; updates take one mutex for a map lookup and an add.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sy::agent {

using Labels = std::vector<std::pair<std::string, std::string>>;  // rendered in the given order

class Metrics {
public:
    // Declares a metric (type and help text); histograms also take their bucket upper bounds.
    void counter(const std::string & name, const std::string & help);
    void gauge(const std::string & name, const std::string & help);
    void histogram(const std::string & name, const std::string & help, std::vector<double> buckets);

    void inc(const std::string & name, const Labels & labels = {}, double v = 1.0);
    void set(const std::string & name, const Labels & labels, double v);
    void observe(const std::string & name, const Labels & labels, double v);
    // Gauges computed at render time (queue depth, ...).
    void gauge_fn(const std::string & name, const std::string & help, std::function<double()> fn);
    // Counters kept elsewhere and read at render time (dropped traces, ...); fn must not decrease.
    void counter_fn(const std::string & name, const std::string & help, std::function<double()> fn);

    // Counter/gauge value (a *_fn metric is evaluated); for a histogram, its observation count. 0 when the
    // series does not exist. For tests.
    double value(const std::string & name, const Labels & labels = {}) const;
    std::string render() const;

private:
    struct Series {
        double value = 0.0;
        std::vector<double> bucket_counts;  // cumulative at render
        double sum = 0.0;
        uint64_t count = 0;
    };
    struct Family {
        std::string type, help;
        std::vector<double> buckets;
        std::map<Labels, Series> series;
        std::function<double()> fn;
    };
    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

}  // namespace sy::agent
