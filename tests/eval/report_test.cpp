// The JSON report's keys (the contract, exactly), the HTML report's charts, numbers and
// self-containment, and the --fail-under / --fail-over gates.
#include <gtest/gtest.h>

#include <regex>

#include "common/error.h"
#include "eval/report.h"
#include "eval_fixtures.h"

namespace sy::eval {
namespace {

EvalReport hand_report(bool with_threshold) {
    const auto outcomes = test::hand_set();
    EvalReport r;
    r.run.model = "router<b>.gguf";
    r.run.data = "test.jsonl";
    r.run.local = true;
    r.run.confidence_source = "router";
    r.metrics = compute_metrics(outcomes);
    if (with_threshold) r.at_threshold = metrics_at_threshold(outcomes, 0.7);
    CostParams cp;
    cp.local = true;
    r.cost = compute_cost(r.metrics, 7, cp);
    r.mistakes = collect_mistakes(outcomes, 3);
    return r;
}

void expect_snake_case_keys(const ojson & j, const std::string & where) {
    static const std::regex snake("[a-z][a-z0-9_]*");
    if (j.is_object()) {
        for (const auto & [k, v] : j.items()) {
            EXPECT_TRUE(std::regex_match(k, snake)) << where << "." << k;
            expect_snake_case_keys(v, where + "." + k);
        }
    } else if (j.is_array()) {
        for (const auto & v : j) expect_snake_case_keys(v, where + "[]");
    }
}

TEST(EvalReport, JsonHasTheContractKeys) {
    const ojson j = report_to_json(hand_report(false));
    const std::vector<std::string> contract = {"n_examples", "tool_selection_accuracy", "argument_exact_match",
                                               "argument_exact_match_normalized", "json_validity", "malformed_call_rate",
                                               "false_positive_rate", "false_negative_rate", "latency_ms", "ece",
                                               "recommended_threshold", "coverage_at_threshold", "accuracy_at_threshold"};
    // The contract's keys come first, in the order.
    std::vector<std::string> first;
    for (const auto & [k, _] : j.items()) {
        if (first.size() == contract.size()) break;
        first.push_back(k);
    }
    EXPECT_EQ(first, contract);
    for (const char * k : {"p50", "p95", "p99"}) EXPECT_TRUE(j["latency_ms"][k].is_number()) << k;
    EXPECT_EQ(j["n_examples"], 8);
    EXPECT_DOUBLE_EQ(j["tool_selection_accuracy"].get<double>(), 3.0 / 8);
    EXPECT_DOUBLE_EQ(j["argument_exact_match"].get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(j["argument_exact_match_normalized"].get<double>(), 0.4);
    EXPECT_DOUBLE_EQ(j["json_validity"].get<double>(), 0.8);
    EXPECT_DOUBLE_EQ(j["malformed_call_rate"].get<double>(), 0.125);
    EXPECT_DOUBLE_EQ(j["false_positive_rate"].get<double>(), 1.0 / 3);
    EXPECT_DOUBLE_EQ(j["false_negative_rate"].get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(j["latency_ms"]["p50"].get<double>(), 40);
    EXPECT_NEAR(j["ece"].get<double>(), 2.75 / 7, 1e-12);
    EXPECT_DOUBLE_EQ(j["recommended_threshold"].get<double>(), 0.9);
    EXPECT_DOUBLE_EQ(j["coverage_at_threshold"].get<double>(), 2.0 / 7);
    EXPECT_DOUBLE_EQ(j["accuracy_at_threshold"].get<double>(), 1.0);
    // The extras the report draws from.
    EXPECT_EQ(j["calibration"]["bins"].size(), 10u);
    EXPECT_EQ(j["coverage_curve"].size(), 7u);
    EXPECT_EQ(j["confusion_matrix"]["counts"][0], ojson::parse("[2, 0, 0, 1, 0]"));
    EXPECT_EQ(j["arguments"].size(), 3u);
    EXPECT_NEAR(j["cost"]["cloud_per_1k_requests_usd"].get<double>(), 0.35, 1e-12);
    EXPECT_EQ(j["mistakes"].size(), 3u);
    EXPECT_EQ(j["mistakes"][0]["expected"], "list_tasks {\"status\":\"open\"}");
    EXPECT_FALSE(j.contains("threshold"));
    expect_snake_case_keys(j, "$");
}

TEST(EvalReport, JsonAtThresholdAndAbsentValues) {
    const ojson j = report_to_json(hand_report(true));
    ASSERT_TRUE(j.contains("threshold"));
    EXPECT_DOUBLE_EQ(j["threshold"]["threshold"].get<double>(), 0.7);
    EXPECT_DOUBLE_EQ(j["threshold"]["coverage"].get<double>(), 4.0 / 7);
    EXPECT_DOUBLE_EQ(j["threshold"]["fallback_rate"].get<double>(), 3.0 / 7);
    EXPECT_DOUBLE_EQ(j["threshold"]["tool_selection_accuracy"].get<double>(), 0.75);

    // Nothing to measure: every contract key is still there, null where undefined.
    const ojson empty = report_to_json(EvalReport{});
    for (const char * k : {"tool_selection_accuracy", "json_validity", "ece", "recommended_threshold", "coverage_at_threshold"})
        EXPECT_TRUE(empty[k].is_null()) << k;
    EXPECT_TRUE(empty["latency_ms"]["p95"].is_null());
    EXPECT_EQ(empty["n_examples"], 0);
}

TEST(EvalReport, HtmlIsSelfContainedWithChartsAndNumbers) {
    const std::string html = report_to_html(hand_report(true));
    for (const char * cls : {"class=\"confusion-matrix\"", "class=\"reliability-diagram\"", "class=\"coverage-accuracy\"",
                             "class=\"latency-histogram\""})
        EXPECT_NE(html.find(cls), std::string::npos) << cls;
    EXPECT_NE(html.find("<polyline"), std::string::npos);      // the coverage curve
    EXPECT_NE(html.find("37.50%"), std::string::npos);         // tool selection accuracy 3/8
    EXPECT_NE(html.find("40.0 ms"), std::string::npos);        // p50
    EXPECT_NE(html.find("0.3929"), std::string::npos);         // ECE 2.75/7
    EXPECT_NE(html.find("$0.3500"), std::string::npos);        // gpt-4o per 1,000 requests
    EXPECT_NE(html.find("At threshold 0.7000"), std::string::npos);
    EXPECT_NE(html.find("create_task -&gt; malformed: 1"), std::string::npos);  // a heat-map cell's tooltip
    EXPECT_NE(html.find("router&lt;b&gt;.gguf"), std::string::npos);            // escaped
    EXPECT_EQ(html.find("router<b>"), std::string::npos);
    for (const char * external : {"<script", "src=", "href=", "url(", "@import", "<link"})
        EXPECT_EQ(html.find(external), std::string::npos) << external;
    // Without confidences the charts say so instead of drawing nothing.
    EvalReport bare = hand_report(false);
    bare.metrics = compute_metrics({test::outcome({}, test::of_kind(PredictionKind::PredictionKind_text), 5, std::nullopt)});
    const std::string h2 = report_to_html(bare);
    EXPECT_NE(h2.find("no confidence available"), std::string::npos);
}

TEST(EvalReport, Gates) {
    const ojson keys = report_to_json(EvalReport{});
    const ojson j = report_to_json(hand_report(true));
    std::vector<MetricGate> gates = {parse_metric_gate("tool_selection_accuracy=0.97", false, keys),
                                     parse_metric_gate("json_validity=0.5", false, keys),
                                     parse_metric_gate("latency_ms.p95=50", true, keys),
                                     parse_metric_gate("false_positive_rate=0.02", true, keys)};
    const auto failures = check_gates(j, gates);
    ASSERT_EQ(failures.size(), 3u);
    EXPECT_EQ(failures[0], "tool_selection_accuracy 0.375 is below 0.97 (--fail-under)");
    EXPECT_EQ(failures[1], "latency_ms.p95 70 is above 50 (--fail-over)");
    EXPECT_EQ(failures[2], "false_positive_rate 0.3333 is above 0.02 (--fail-over)");
    EXPECT_TRUE(check_gates(j, {parse_metric_gate("accuracy=0.375", false, keys)}).empty());
    // An absent metric fails its gate.
    EXPECT_EQ(check_gates(report_to_json(EvalReport{}), {gates[0]}).size(), 1u);

    EXPECT_THROW(parse_metric_gate("tool_selection_accuracy", false, keys), Error);
    EXPECT_THROW(parse_metric_gate("tool_selection_accuracy=high", false, keys), Error);
    try {
        parse_metric_gate("tool_accuracy=0.9", false, keys);
        FAIL() << "unknown metric accepted";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("tool_selection_accuracy"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("latency_ms.p95"), std::string::npos) << e.what();
    }
    EXPECT_THROW(parse_metric_gate("confusion_matrix=1", false, keys), Error);  // not a number
}

}  // namespace
}  // namespace sy::eval
