// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external assets) with the
// summary table, the confusion matrix heat map, the reliability diagram, the coverage-accuracy curve, the
// latency histogram, the cost section, per-argument precision/recall and the first mistakes.
// Each chart is an <svg> with a class naming it (confusion-matrix, reliability-diagram, coverage-accuracy,
// latency-histogram) so tests and readers can find it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "eval/report.h"

namespace sy::eval {

namespace {

std::string esc(const std::string & s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string num(double v, int prec = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

std::string pct(const std::optional<double> & v) { return v ? num(100.0 * *v, 2) + "%" : "&mdash;"; }
std::string ms(const std::optional<double> & v) { return v ? num(*v, 1) + " ms" : "&mdash;"; }
std::string usd(const std::optional<double> & v) { return v ? "$" + num(*v, 4) : "&mdash;"; }
std::string plain(const std::optional<double> & v, int prec = 4) { return v ? num(*v, prec) : "&mdash;"; }

// Plot area of every line/bar chart: 480 x 300 with margins for axes.
constexpr double W = 480, H = 300, ML = 56, MR = 16, MT = 16, MB = 44;
double px(double x01) { return ML + x01 * (W - ML - MR); }
// y in [lo, 1] (lo > 0 zooms in on the range accuracies live in).
double py(double y, double lo = 0.0) { return H - MB - (y - lo) / (1.0 - lo) * (H - MT - MB); }

std::string sig(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string svg_open(const std::string & cls, const std::string & title, double w = W, double h = H) {
    return "<svg class=\"" + cls + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(w, 0) + "\" height=\"" + num(h, 0) +
           "\" viewBox=\"0 0 " + num(w, 0) + " " + num(h, 0) + "\" role=\"img\"><title>" + esc(title) + "</title>";
}

std::string text(double x, double y, const std::string & s, const std::string & anchor = "middle", const std::string & extra = "") {
    return "<text x=\"" + num(x, 1) + "\" y=\"" + num(y, 1) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" + esc(s) + "</text>";
}

std::string line(double x1, double y1, double x2, double y2, const std::string & style) {
    return "<line x1=\"" + num(x1, 1) + "\" y1=\"" + num(y1, 1) + "\" x2=\"" + num(x2, 1) + "\" y2=\"" + num(y2, 1) + "\" " + style + "/>";
}

std::string rect(double x, double y, double w, double h, const std::string & style, const std::string & tip = "") {
    std::string s = "<rect x=\"" + num(x, 1) + "\" y=\"" + num(y, 1) + "\" width=\"" + num(std::max(0.0, w), 1) + "\" height=\"" +
                    num(std::max(0.0, h), 1) + "\" " + style;
    return tip.empty() ? s + "/>" : s + "><title>" + esc(tip) + "</title></rect>";
}

// Axes with ticks at five even steps: x over [0, 1], y over [ylo, 1].
std::string unit_axes(const std::string & xlabel, const std::string & ylabel, double ylo = 0.0) {
    std::string s;
    s += line(px(0), py(ylo, ylo), px(1), py(ylo, ylo), "stroke=\"#333\"");
    s += line(px(0), py(ylo, ylo), px(0), py(1, ylo), "stroke=\"#333\"");
    for (int i = 0; i <= 4; ++i) {
        const double t = i / 4.0, y = ylo + t * (1.0 - ylo);
        s += line(px(t), py(ylo, ylo), px(t), py(ylo, ylo) + 4, "stroke=\"#333\"") + text(px(t), py(ylo, ylo) + 16, num(t, 2));
        s += line(px(0) - 4, py(y, ylo), px(0), py(y, ylo), "stroke=\"#333\"") + text(px(0) - 7, py(y, ylo) + 4, num(y, 3), "end");
        if (i > 0) s += line(px(0), py(y, ylo), px(1), py(y, ylo), "stroke=\"#eee\"");
    }
    s += text(px(0.5), H - 6, xlabel);
    s += "<text transform=\"translate(14," + num(py(0.5)) + ") rotate(-90)\" text-anchor=\"middle\">" + esc(ylabel) + "</text>";
    return s;
}

std::string no_data(const std::string & cls, const std::string & title, const std::string & why) {
    return svg_open(cls, title, W, 60) + text(W / 2, 34, why) + "</svg>";
}

std::string confusion_svg(const ConfusionMatrix & m) {
    const size_t R = m.expected_labels.size(), C = m.predicted_labels.size();
    const double cell = std::clamp(360.0 / (double)std::max<size_t>(1, C), 22.0, 56.0), left = 130, top = 110;
    const double w = left + cell * (double)C + 70, h = top + cell * (double)R + 30;  // room for the last rotated label
    std::string s = svg_open("confusion-matrix", "Confusion matrix (rows: expected, columns: predicted)", w, h);
    s += text(left + cell * (double)C / 2, 14, "predicted");
    for (size_t c = 0; c < C; ++c) {
        const double x = left + cell * ((double)c + 0.5);
        s += "<text transform=\"translate(" + num(x + 4, 1) + "," + num(top - 6, 1) + ") rotate(-55)\" text-anchor=\"start\">" +
             esc(m.predicted_labels[c]) + "</text>";
    }
    for (size_t r = 0; r < R; ++r) {
        int64_t row_total = 0;
        for (int64_t v : m.counts[r]) row_total += v;
        const double y = top + cell * (double)r;
        s += text(left - 6, y + cell / 2 + 4, m.expected_labels[r], "end");
        for (size_t c = 0; c < C; ++c) {
            const int64_t v = m.counts[r][c];
            const double share = row_total ? (double)v / (double)row_total : 0.0;
            const bool diag = m.expected_labels[r] == m.predicted_labels[c];
            // Share of the row: blue on the diagonal (right), red off it (mistakes).
            const int shade = (int)std::lround(255 - 200 * share);
            char fill[32];
            std::snprintf(fill, sizeof fill, diag ? "rgb(%d,%d,255)" : "rgb(255,%d,%d)", shade, shade);
            const double x = left + cell * (double)c;
            s += rect(x, y, cell, cell, "fill=\"" + std::string(v ? fill : "#fafafa") + "\" stroke=\"#ccc\"",
                      m.expected_labels[r] + " -> " + m.predicted_labels[c] + ": " + std::to_string(v));
            if (v) s += text(x + cell / 2, y + cell / 2 + 4, std::to_string(v), "middle", share > 0.6 ? " fill=\"#fff\"" : "");
        }
    }
    s += "<text transform=\"translate(12," + num(top + cell * (double)R / 2, 1) + ") rotate(-90)\" text-anchor=\"middle\">expected</text>";
    return s + "</svg>";
}

std::string reliability_svg(const Calibration & c) {
    if (c.n == 0) return no_data("reliability-diagram", "Reliability diagram", "no confidence available for this model");
    std::string s = svg_open("reliability-diagram", "Reliability diagram");
    s += unit_axes("confidence", "accuracy");
    s += line(px(0), py(0), px(1), py(1), "stroke=\"#999\" stroke-dasharray=\"4 3\"");
    for (const CalibrationBin & b : c.bins) {
        if (b.count == 0) continue;
        const double x0 = px(b.lower) + 1, x1 = px(b.upper) - 1;
        s += rect(x0, py(b.accuracy), x1 - x0, py(0) - py(b.accuracy), "fill=\"#4a7bd0\" fill-opacity=\"0.8\"",
                  "[" + num(b.lower, 2) + ", " + num(b.upper, 2) + "): " + std::to_string(b.count) + " examples, accuracy " +
                      num(b.accuracy, 3) + ", mean confidence " + num(b.mean_confidence, 3));
        s += "<circle cx=\"" + num(px(b.mean_confidence), 1) + "\" cy=\"" + num(py(b.accuracy), 1) + "\" r=\"3\" fill=\"#d04a4a\"/>";
        s += text((x0 + x1) / 2, py(b.accuracy) - 4, std::to_string(b.count), "middle", " font-size=\"10\"");
    }
    return s + "</svg>";
}

std::string coverage_svg(const Metrics & m) {
    if (m.coverage_curve.empty()) return no_data("coverage-accuracy", "Coverage-accuracy curve", "no confidence available for this model");
    // The y axis starts a little below the lowest accuracy on the curve (or the target), in steps of 0.1.
    double lowest = m.target_accuracy;
    for (const CoveragePoint & p : m.coverage_curve) lowest = std::min(lowest, p.accuracy);
    const double lo = std::clamp(std::floor((lowest - 0.02) * 10.0) / 10.0, 0.0, 0.9);
    auto y = [&](double v) { return py(v, lo); };
    std::string s = svg_open("coverage-accuracy", "Coverage-accuracy curve");
    s += unit_axes("coverage (share answered locally)", "accuracy of the answered", lo);
    s += line(px(0), y(m.target_accuracy), px(1), y(m.target_accuracy), "stroke=\"#d04a4a\" stroke-dasharray=\"4 3\"");
    s += text(px(1) - 4, y(m.target_accuracy) + 14, "target " + num(m.target_accuracy, 3), "end", " fill=\"#d04a4a\" font-size=\"11\"");
    std::string pts = num(px(0), 1) + "," + num(y(m.coverage_curve.front().accuracy), 1);
    for (const CoveragePoint & p : thin_curve(m.coverage_curve, 400)) pts += " " + num(px(p.coverage), 1) + "," + num(y(p.accuracy), 1);
    s += "<polyline fill=\"none\" stroke=\"#4a7bd0\" stroke-width=\"2\" points=\"" + pts + "\"/>";
    if (m.recommended) {
        const CoveragePoint & r = *m.recommended;
        s += "<circle cx=\"" + num(px(r.coverage), 1) + "\" cy=\"" + num(y(r.accuracy), 1) +
             "\" r=\"5\" fill=\"none\" stroke=\"#d04a4a\" stroke-width=\"2\"><title>threshold " + num(r.threshold, 4) + ": coverage " +
             num(r.coverage, 3) + ", accuracy " + num(r.accuracy, 3) + "</title></circle>";
        s += text(px(r.coverage) + (r.coverage > 0.8 ? -8 : 8), y(r.accuracy) + 18, "threshold " + num(r.threshold, 3),
                  r.coverage > 0.8 ? "end" : "start", " font-size=\"11\"");
    }
    return s + "</svg>";
}

std::string latency_svg(const Histogram & h) {
    if (h.counts.empty()) return no_data("latency-histogram", "Latency histogram", "no answered requests");
    std::string s = svg_open("latency-histogram", "Latency histogram");
    const int64_t peak = std::max<int64_t>(1, *std::max_element(h.counts.begin(), h.counts.end()));
    const size_t n = h.counts.size();
    const double width = (h.upper - h.lower) / (double)n;
    s += line(px(0), py(0), px(1), py(0), "stroke=\"#333\"") + line(px(0), py(0), px(0), py(1), "stroke=\"#333\"");
    for (size_t b = 0; b < n; ++b) {
        const double x0 = px((double)b / (double)n) + 1, x1 = px((double)(b + 1) / (double)n) - 1;
        const double y = py((double)h.counts[b] / (double)peak);
        const double lo = h.lower + width * (double)b;
        s += rect(x0, y, x1 - x0, py(0) - y, "fill=\"#4a7bd0\"",
                  sig(lo) + "-" + sig(lo + width) + " ms: " + std::to_string(h.counts[b]));
    }
    for (int i = 0; i <= 4; ++i) {
        const double t = i / 4.0;
        s += line(px(t), py(0), px(t), py(0) + 4, "stroke=\"#333\"") + text(px(t), py(0) + 16, sig(h.lower + t * (h.upper - h.lower)));
    }
    s += text(px(0) - 7, py(1) + 4, std::to_string(peak), "end") + text(px(0) - 7, py(0) + 4, "0", "end");
    s += text(px(0.5), H - 6, "latency (ms)");
    s += "<text transform=\"translate(14," + num(py(0.5), 1) + ") rotate(-90)\" text-anchor=\"middle\">requests</text>";
    return s + "</svg>";
}

std::string row(const std::string & name, const std::string & value, const std::string & note = "") {
    return "<tr><th>" + esc(name) + "</th><td class=\"num\">" + value + "</td><td class=\"note\">" + esc(note) + "</td></tr>\n";
}

std::string summary_table(const Metrics & m) {
    std::string s = "<table class=\"summary\">\n";
    s += row("examples", std::to_string(m.n_examples),
             std::to_string(m.n_expected_calls) + " expect a call, " + std::to_string(m.n_expected_none) + " no tool");
    s += row("tool selection accuracy", pct(m.tool_selection_accuracy), "right tool, or correctly none");
    s += row("whole answer correct", pct(m.accuracy), "tool and normalised arguments");
    s += row("argument exact match (strict)", pct(m.argument_exact_match), "of expected calls");
    s += row("argument exact match (normalised)", pct(m.argument_exact_match_normalised), "key order, whitespace, case ignored");
    s += row("argument precision / recall", pct(m.argument_precision) + " / " + pct(m.argument_recall), "per argument, micro-averaged");
    s += row("JSON validity", pct(m.json_validity), "of call attempts");
    s += row("schema validity", pct(m.schema_validity), "of well-formed calls");
    s += row("malformed call rate", pct(m.malformed_call_rate), "of all examples");
    s += row("no-call rate", pct(m.no_call_rate), "text answers, of all examples");
    s += row("false positive rate", pct(m.false_positive_rate), "call where none was expected");
    s += row("false negative rate", pct(m.false_negative_rate), "no call where one was expected");
    s += row("errors", std::to_string(m.n_errors), "requests the provider failed");
    if (m.n_tool_replies > 0) {
        s += row("grounded replies", pct(m.grounded_reply_rate),
                 "of " + std::to_string(m.n_tool_replies) + " text answers to a tool result: every number and quoted string is the result's");
        s += row("reply value match", pct(m.reply_value_match), "the reference reply's numbers and quoted strings, in any order");
        s += row("reply exact match", pct(m.reply_exact_match), "the reference reply's text");
    }
    s += row("latency p50 / p95 / p99", ms(m.latency_ms.p50) + " / " + ms(m.latency_ms.p95) + " / " + ms(m.latency_ms.p99));
    s += row("ECE", plain(m.calibration.ece), std::to_string(m.calibration.n) + " examples with a confidence");
    if (m.recommended) {
        s += row("recommended threshold", plain(m.recommended->threshold),
                 "lowest threshold with accuracy >= " + num(m.target_accuracy, 3));
        s += row("coverage / accuracy there", pct(m.recommended->coverage) + " / " + pct(m.recommended->accuracy));
    } else {
        s += row("recommended threshold", "&mdash;",
                 m.calibration.n ? "no threshold reaches accuracy " + num(m.target_accuracy, 3) : "no confidence available");
    }
    return s + "</table>\n";
}

std::string cost_section(const CostSummary & c) {
    std::string s = "<table class=\"cost\">\n";
    s += row("mean tokens per request", num(c.mean_prompt_tokens, 1) + " in / " + num(c.mean_completion_tokens, 1) + " out",
             std::to_string(c.n_requests) + " answered requests");
    s += row("this model per 1,000 requests", usd(c.per_1k_usd),
             c.price ? "priced as " + c.priced_as + " ($" + num(c.price->input_per_1m, 2) + " / $" + num(c.price->output_per_1m, 2) +
                           " per 1M in / out)"
                     : "not in the price table; pass --prices with an entry for it");
    s += row(c.cloud_model + " per 1,000 requests", usd(c.cloud_per_1k_usd), "the same tokens at the reference cloud price");
    if (c.routed_per_1k_usd)
        s += row("routed at the recommended threshold", usd(c.routed_per_1k_usd),
                 "router on every request, " + num(100.0 * (1.0 - c.routed_coverage.value_or(0.0)), 1) + "% also on " + c.cloud_model);
    s += row("savings per 1,000 requests", usd(c.savings_per_1k_usd), "vs " + c.cloud_model);
    s += row("price table", esc(c.price_table_taken.empty() ? "(undated)" : c.price_table_taken));
    return s + "</table>\n";
}

std::string arguments_table(const std::vector<ArgumentMetric> & args) {
    if (args.empty()) return "<p>No arguments.</p>\n";
    std::string s = "<table class=\"arguments\"><tr><th>tool</th><th>argument</th><th>precision</th><th>recall</th><th>predicted</th>"
                    "<th>expected</th><th>correct</th></tr>\n";
    for (const ArgumentMetric & a : args)
        s += "<tr><td>" + esc(a.tool) + "</td><td>" + esc(a.argument) + "</td><td class=\"num\">" + pct(a.precision) +
             "</td><td class=\"num\">" + pct(a.recall) + "</td><td class=\"num\">" + std::to_string(a.n_predicted) +
             "</td><td class=\"num\">" + std::to_string(a.n_expected) + "</td><td class=\"num\">" + std::to_string(a.n_correct) +
             "</td></tr>\n";
    return s + "</table>\n";
}

std::string mistakes_table(const std::vector<Mistake> & mistakes) {
    if (mistakes.empty()) return "<p>None.</p>\n";
    std::string s = "<table class=\"mistakes\"><tr><th>request</th><th>expected</th><th>predicted</th><th>confidence</th></tr>\n";
    for (const Mistake & m : mistakes)
        s += "<tr><td>" + esc(m.request) + "</td><td><code>" + esc(m.expected) + "</code></td><td><code>" + esc(m.predicted) +
             "</code></td><td class=\"num\">" + plain(m.confidence, 3) + "</td></tr>\n";
    return s + "</table>\n";
}

std::string threshold_section(const ThresholdMetrics & t) {
    std::string s = "<h2>At threshold " + num(t.threshold, 4) + "</h2>\n<table class=\"summary\">\n";
    s += row("coverage", pct(t.coverage), std::to_string(t.n_covered) + " of " + std::to_string(t.n_with_confidence) + " answered locally");
    s += row("fallback rate", t.coverage ? pct(1.0 - *t.coverage) : "&mdash;");
    s += row("tool selection accuracy", pct(t.covered.tool_selection_accuracy), "of the answered");
    s += row("whole answer correct", pct(t.covered.accuracy));
    s += row("argument exact match (normalised)", pct(t.covered.argument_exact_match_normalised));
    s += row("false positive rate", pct(t.covered.false_positive_rate));
    return s + "</table>\n";
}

constexpr const char * kStyle =
    "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}"
    "table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.note{color:#666}"
    "code{font-size:12px;word-break:break-all}.charts{display:flex;flex-wrap:wrap;gap:24px}.chart h3{font-size:14px;margin:4px 0}"
    "svg{font-size:12px;font-family:inherit;background:#fff}.meta{color:#555}";

}  // namespace

std::string report_to_html(const EvalReport & r) {
    const Metrics & m = r.metrics;
    std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Switchyard eval: " + esc(r.run.model) +
                    "</title><style>" + kStyle + "</style></head><body>\n";
    s += "<h1>Switchyard evaluation: " + esc(r.run.model) + "</h1>\n<p class=\"meta\">";
    if (!r.run.lora.empty()) s += "adapter " + esc(r.run.lora) + " &middot; ";
    if (!r.run.endpoint.empty()) s += "endpoint " + esc(r.run.endpoint) + " &middot; ";
    s += "data " + esc(r.run.data) + " &middot; " + std::to_string(m.n_examples) + " examples &middot; started " + esc(r.run.started_at) +
         " &middot; " + num(r.run.seconds, 1) + " s, concurrency " + std::to_string(r.run.concurrency) + " &middot; confidence from " +
         esc(r.run.confidence_source) + "</p>\n";
    s += "<h2>Summary</h2>\n" + summary_table(m);
    if (r.at_threshold) s += threshold_section(*r.at_threshold);
    s += "<h2>Charts</h2>\n<div class=\"charts\">\n";
    s += "<div class=\"chart\"><h3>Confusion matrix (rows expected, columns predicted)</h3>" + confusion_svg(m.confusion) + "</div>\n";
    s += "<div class=\"chart\"><h3>Reliability diagram (ECE " + plain(m.calibration.ece) + ")</h3>" + reliability_svg(m.calibration) + "</div>\n";
    s += "<div class=\"chart\"><h3>Coverage&ndash;accuracy</h3>" + coverage_svg(m) + "</div>\n";
    s += "<div class=\"chart\"><h3>Latency</h3>" + latency_svg(m.latency_histogram) + "</div>\n</div>\n";
    s += "<h2>Cost</h2>\n" + cost_section(r.cost);
    s += "<h2>Arguments</h2>\n" + arguments_table(m.arguments);
    s += "<h2>First mistakes</h2>\n" + mistakes_table(r.mistakes);
    s += "</body></html>\n";
    return s;
}

}  // namespace sy::eval
