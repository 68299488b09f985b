// Metrics: the registry and the Prometheus text exposition format (0.0.4). See metrics.h.
//
// Rendering rules followed here: one "# HELP" and one "# TYPE" line per family; label values escape
// backslash, double quote and newline; help text escapes backslash and newline; a histogram series is
// rendered as cumulative name_bucket{...,le="B"} lines ending with le="+Inf" (= the count), then name_sum
// and name_count; numbers in the shortest form that reads back exactly.
#include "agent/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/error.h"

namespace sy::agent {

namespace {

std::string format_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string escape_label_value(const std::string & s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string escape_help(const std::string & s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// {a="x",b="y"} with an optional extra label appended (le for buckets); "" when there are none.
std::string render_labels(const Labels & labels, const std::pair<std::string, std::string> * extra = nullptr) {
    if (labels.empty() && !extra) return "";
    std::string out = "{";
    bool first = true;
    auto add = [&](const std::string & k, const std::string & v) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += "=\"";
        out += escape_label_value(v);
        out += '"';
    };
    for (const auto & [k, v] : labels) add(k, v);
    if (extra) add(extra->first, extra->second);
    out += '}';
    return out;
}

bool valid_metric_name(const std::string & name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                        (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

}  // namespace

void Metrics::counter(const std::string & name, const std::string & help) {
    SY_ASSERT(valid_metric_name(name));
    std::lock_guard lock(mu_);
    Family & f = families_[name];
    f.type = "counter";
    f.help = help;
}

void Metrics::gauge(const std::string & name, const std::string & help) {
    SY_ASSERT(valid_metric_name(name));
    std::lock_guard lock(mu_);
    Family & f = families_[name];
    f.type = "gauge";
    f.help = help;
}

void Metrics::histogram(const std::string & name, const std::string & help, std::vector<double> buckets) {
    SY_ASSERT(valid_metric_name(name));
    std::sort(buckets.begin(), buckets.end());
    buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
    // +Inf is implicit: the count.
    while (!buckets.empty() && std::isinf(buckets.back())) buckets.pop_back();
    std::lock_guard lock(mu_);
    Family & f = families_[name];
    f.type = "histogram";
    f.help = help;
    f.buckets = std::move(buckets);
}

void Metrics::gauge_fn(const std::string & name, const std::string & help, std::function<double()> fn) {
    SY_ASSERT(valid_metric_name(name) && fn);
    std::lock_guard lock(mu_);
    Family & f = families_[name];
    f.type = "gauge";
    f.help = help;
    f.fn = std::move(fn);
}

void Metrics::counter_fn(const std::string & name, const std::string & help, std::function<double()> fn) {
    SY_ASSERT(valid_metric_name(name) && fn);
    std::lock_guard lock(mu_);
    Family & f = families_[name];
    f.type = "counter";
    f.help = help;
    f.fn = std::move(fn);
}

void Metrics::inc(const std::string & name, const Labels & labels, double v) {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    SY_ASSERT_MSG(it != families_.end() && it->second.type == "counter" && !it->second.fn, name.c_str());
    SY_ASSERT(v >= 0.0);
    it->second.series[labels].value += v;
}

void Metrics::set(const std::string & name, const Labels & labels, double v) {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    SY_ASSERT_MSG(it != families_.end() && it->second.type == "gauge" && !it->second.fn, name.c_str());
    it->second.series[labels].value = v;
}

void Metrics::observe(const std::string & name, const Labels & labels, double v) {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    SY_ASSERT_MSG(it != families_.end() && it->second.type == "histogram", name.c_str());
    if (std::isnan(v)) return;  // no bucket holds it; dropping it keeps _sum meaningful
    Family & f = it->second;
    Series & s = f.series[labels];
    if (s.bucket_counts.empty()) s.bucket_counts.assign(f.buckets.size(), 0.0);
    // Stored per bucket (not cumulative); render accumulates.
    const auto pos = std::lower_bound(f.buckets.begin(), f.buckets.end(), v);  // first bound >= v: le is inclusive
    if (pos != f.buckets.end()) s.bucket_counts[(size_t)(pos - f.buckets.begin())] += 1.0;
    s.sum += v;
    s.count += 1;
}

double Metrics::value(const std::string & name, const Labels & labels) const {
    std::function<double()> fn;
    {
        std::lock_guard lock(mu_);
        auto it = families_.find(name);
        if (it == families_.end()) return 0.0;
        if (it->second.fn) {
            if (!labels.empty()) return 0.0;
            fn = it->second.fn;
        } else {
            auto s = it->second.series.find(labels);
            if (s == it->second.series.end()) return 0.0;
            return it->second.type == "histogram" ? (double)s->second.count : s->second.value;
        }
    }
    return fn();  // outside the lock: the function may take other locks
}

std::string Metrics::render() const {
    // Copy the families under the lock, evaluate *_fn outside it (they may lock other things).
    std::map<std::string, Family> copy;
    {
        std::lock_guard lock(mu_);
        copy = families_;
    }
    std::string out;
    out.reserve(4096);
    for (const auto & [name, f] : copy) {
        out += "# HELP " + name + " " + escape_help(f.help) + "\n";
        out += "# TYPE " + name + " " + f.type + "\n";
        if (f.fn) {
            out += name + " " + format_number(f.fn()) + "\n";
            continue;
        }
        for (const auto & [labels, s] : f.series) {
            if (f.type != "histogram") {
                out += name + render_labels(labels) + " " + format_number(s.value) + "\n";
                continue;
            }
            double cum = 0.0;
            for (size_t i = 0; i < f.buckets.size(); ++i) {
                cum += i < s.bucket_counts.size() ? s.bucket_counts[i] : 0.0;
                const std::pair<std::string, std::string> le{"le", format_number(f.buckets[i])};
                out += name + "_bucket" + render_labels(labels, &le) + " " + format_number(cum) + "\n";
            }
            const std::pair<std::string, std::string> inf{"le", "+Inf"};
            out += name + "_bucket" + render_labels(labels, &inf) + " " + format_number((double)s.count) + "\n";
            out += name + "_sum" + render_labels(labels) + " " + format_number(s.sum) + "\n";
            out += name + "_count" + render_labels(labels) + " " + format_number((double)s.count) + "\n";
        }
    }
    return out;
}

}  // namespace sy::agent
