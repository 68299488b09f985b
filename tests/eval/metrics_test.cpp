// Every metric on a hand-checked set of eight judged examples (the arithmetic is in the comments), plus
// the building blocks (percentile, calibration, coverage curve, histogram, confusion matrix, cost).
#include <gtest/gtest.h>

#include "eval/cost.h"
#include "eval/metrics.h"
#include "eval_fixtures.h"

namespace sy::eval {
namespace {

using namespace test;

TEST(EvalMetrics, HandCheckedSet) {
    const Metrics m = compute_metrics(hand_set());
    EXPECT_EQ(m.n_examples, 8);
    EXPECT_EQ(m.n_expected_calls, 5);  // 1 2 3 6 7
    EXPECT_EQ(m.n_expected_none, 3);   // 4 5 8
    EXPECT_EQ(m.n_errors, 1);
    EXPECT_DOUBLE_EQ(*m.tool_selection_accuracy, 3.0 / 8);       // 1 2 4
    EXPECT_DOUBLE_EQ(*m.accuracy, 3.0 / 8);                      // 1 2 4
    EXPECT_DOUBLE_EQ(*m.argument_exact_match, 1.0 / 5);          // 1
    EXPECT_DOUBLE_EQ(*m.argument_exact_match_normalised, 2.0 / 5);  // 1 2
    EXPECT_DOUBLE_EQ(*m.json_validity, 4.0 / 5);                 // calls 1 2 3 5, malformed 7
    EXPECT_DOUBLE_EQ(*m.schema_validity, 3.0 / 4);               // 5 breaks the enum
    EXPECT_DOUBLE_EQ(*m.malformed_call_rate, 1.0 / 8);
    EXPECT_DOUBLE_EQ(*m.no_call_rate, 2.0 / 8);                  // 4 6
    EXPECT_DOUBLE_EQ(*m.error_rate, 1.0 / 8);
    EXPECT_DOUBLE_EQ(*m.false_positive_rate, 1.0 / 3);           // 5 of 4 5 8
    EXPECT_DOUBLE_EQ(*m.false_negative_rate, 1.0 / 5);           // 6 of 1 2 3 6 7
    // Arguments: given 2+2+1+1 = 6, expected 2+2+1+1+2 = 8, correct 2+2 = 4.
    EXPECT_DOUBLE_EQ(*m.argument_precision, 4.0 / 6);
    EXPECT_DOUBLE_EQ(*m.argument_recall, 4.0 / 8);
    ASSERT_EQ(m.arguments.size(), 3u);
    EXPECT_EQ(m.arguments[0].tool, "create_task");
    EXPECT_EQ(m.arguments[0].argument, "priority");  // given 1 2; expected 1 2 7; right 1 2
    EXPECT_EQ(m.arguments[0].n_predicted, 2);
    EXPECT_EQ(m.arguments[0].n_expected, 3);
    EXPECT_EQ(m.arguments[0].n_correct, 2);
    EXPECT_EQ(m.arguments[1].argument, "title");  // given 1 2 3; expected 1 2 7; right 1 2
    EXPECT_DOUBLE_EQ(*m.arguments[1].precision, 2.0 / 3);
    EXPECT_DOUBLE_EQ(*m.arguments[1].recall, 2.0 / 3);
    EXPECT_EQ(m.arguments[2].tool, "list_tasks");  // given 5; expected 3 6; right none
    EXPECT_DOUBLE_EQ(*m.arguments[2].precision, 0.0);
    EXPECT_DOUBLE_EQ(*m.arguments[2].recall, 0.0);

    // Latency over the 7 answered: nearest rank, p50 = rank ceil(3.5) = 4 -> 40; p95, p99 -> rank 7.
    EXPECT_DOUBLE_EQ(*m.latency_ms.p50, 40);
    EXPECT_DOUBLE_EQ(*m.latency_ms.p95, 70);
    EXPECT_DOUBLE_EQ(*m.latency_ms.p99, 70);
    EXPECT_DOUBLE_EQ(*m.latency_ms.mean, 40);

    // ECE: bin 9 {.95 .90} both right: |1 - .925| = .075 (x2); bins 8 7 6 5 4: .8 .3 .6 .5 .4.
    // (2 * .075 + .8 + .3 + .6 + .5 + .4) / 7 = 2.75 / 7.
    EXPECT_EQ(m.calibration.n, 7);
    EXPECT_NEAR(*m.calibration.ece, 2.75 / 7, 1e-12);
    EXPECT_EQ(m.calibration.bins[9].count, 2);
    EXPECT_NEAR(m.calibration.bins[9].mean_confidence, 0.925, 1e-12);
    EXPECT_DOUBLE_EQ(m.calibration.bins[9].accuracy, 1.0);
    EXPECT_EQ(m.calibration.bins[0].count, 0);

    // Coverage curve, highest threshold first: accuracies 1, 1, 2/3, 3/4, 3/5, 3/6, 3/7.
    ASSERT_EQ(m.coverage_curve.size(), 7u);
    EXPECT_DOUBLE_EQ(m.coverage_curve[2].accuracy, 2.0 / 3);
    EXPECT_DOUBLE_EQ(m.coverage_curve[3].coverage, 4.0 / 7);
    EXPECT_DOUBLE_EQ(m.coverage_curve[3].accuracy, 3.0 / 4);
    ASSERT_TRUE(m.recommended.has_value());  // target .99: the lowest threshold still at accuracy 1 is .90
    EXPECT_DOUBLE_EQ(m.recommended->threshold, 0.90);
    EXPECT_DOUBLE_EQ(m.recommended->coverage, 2.0 / 7);
    EXPECT_DOUBLE_EQ(m.recommended->accuracy, 1.0);

    // Confusion matrix (rows create_task, list_tasks, none; columns those, malformed, error).
    const std::vector<std::string> rows = {"create_task", "list_tasks", "none"};
    const std::vector<std::string> cols = {"create_task", "list_tasks", "none", "malformed", "error"};
    EXPECT_EQ(m.confusion.expected_labels, rows);
    EXPECT_EQ(m.confusion.predicted_labels, cols);
    const std::vector<std::vector<int64_t>> counts = {{2, 0, 0, 1, 0}, {1, 0, 1, 0, 0}, {0, 1, 1, 0, 1}};
    EXPECT_EQ(m.confusion.counts, counts);

    EXPECT_EQ(m.prompt_tokens, 700);
    EXPECT_EQ(m.completion_tokens, 70);
}

TEST(EvalMetrics, TargetAccuracyPicksTheLowestThresholdThatKeepsIt) {
    MetricsParams p;
    p.target_accuracy = 0.75;  // points at accuracy >= .75: thresholds .95 .90 .70 -> .70, coverage 4/7
    const Metrics m = compute_metrics(hand_set(), p);
    ASSERT_TRUE(m.recommended.has_value());
    EXPECT_DOUBLE_EQ(m.recommended->threshold, 0.70);
    EXPECT_DOUBLE_EQ(m.recommended->coverage, 4.0 / 7);
    EXPECT_DOUBLE_EQ(m.recommended->accuracy, 0.75);
    p.target_accuracy = 1.0 + 1e-6;
    EXPECT_FALSE(compute_metrics(hand_set(), p).recommended.has_value());
}

TEST(EvalMetrics, AtThreshold) {
    const ThresholdMetrics t = metrics_at_threshold(hand_set(), 0.7);  // answers 1 2 3 4
    EXPECT_EQ(t.n_with_confidence, 7);
    EXPECT_EQ(t.n_covered, 4);
    EXPECT_DOUBLE_EQ(*t.coverage, 4.0 / 7);
    EXPECT_DOUBLE_EQ(*t.covered.tool_selection_accuracy, 3.0 / 4);
    EXPECT_DOUBLE_EQ(*t.covered.false_positive_rate, 0.0);  // only 4 expects no tool, and it is right
    EXPECT_DOUBLE_EQ(*t.covered.argument_exact_match_normalised, 2.0 / 3);
}

TEST(EvalMetrics, EmptyDenominatorsAreAbsent) {
    const Metrics m = compute_metrics({});
    EXPECT_EQ(m.n_examples, 0);
    EXPECT_FALSE(m.tool_selection_accuracy);
    EXPECT_FALSE(m.json_validity);
    EXPECT_FALSE(m.latency_ms.p50);
    EXPECT_FALSE(m.calibration.ece);
    EXPECT_FALSE(m.recommended);
    // Only "no tool" examples, all answered in text: no call attempts, no expected calls.
    const Metrics t = compute_metrics({outcome({}, of_kind(PredictionKind::PredictionKind_text), 5, std::nullopt)});
    EXPECT_DOUBLE_EQ(*t.tool_selection_accuracy, 1.0);
    EXPECT_FALSE(t.json_validity);
    EXPECT_FALSE(t.argument_exact_match);
    EXPECT_FALSE(t.false_negative_rate);
    EXPECT_DOUBLE_EQ(*t.false_positive_rate, 0.0);
    EXPECT_FALSE(t.calibration.ece);  // no confidence at all
}

TEST(EvalMetrics, Percentile) {
    EXPECT_DOUBLE_EQ(*percentile({40, 10, 30, 20}, 50), 20);
    EXPECT_DOUBLE_EQ(*percentile({40, 10, 30, 20}, 95), 40);
    EXPECT_DOUBLE_EQ(*percentile({40, 10, 30, 20}, 25), 10);
    EXPECT_DOUBLE_EQ(*percentile({40, 10, 30, 20}, 100), 40);
    EXPECT_DOUBLE_EQ(*percentile({7}, 99), 7);
    std::vector<double> hundred;
    for (int i = 1; i <= 100; ++i) hundred.push_back(i);
    EXPECT_DOUBLE_EQ(*percentile(hundred, 95), 95);
    EXPECT_DOUBLE_EQ(*percentile(hundred, 99), 99);
    EXPECT_FALSE(percentile({}, 50));
}

TEST(EvalMetrics, CalibrationBinsAndPerfectCalibration) {
    // Confidence 1 lands in the last bin; a perfectly calibrated set has ECE 0.
    const Calibration c = calibrate({1.0, 1.0, 0.25, 0.25, 0.25, 0.25}, {true, true, true, false, false, false}, 4);
    ASSERT_EQ(c.bins.size(), 4u);
    EXPECT_EQ(c.bins[3].count, 2);
    EXPECT_EQ(c.bins[1].count, 4);
    EXPECT_DOUBLE_EQ(c.bins[1].lower, 0.25);
    EXPECT_DOUBLE_EQ(c.bins[1].accuracy, 0.25);
    EXPECT_NEAR(*c.ece, 0.0, 1e-12);
    // All wrong at confidence .9: ECE .9.
    EXPECT_NEAR(*calibrate({0.9, 0.9}, {false, false}).ece, 0.9, 1e-12);
}

TEST(EvalMetrics, CoverageCurveGroupsTies) {
    const auto curve = coverage_curve({0.5, 0.9, 0.5, 0.9}, {false, true, true, true});
    ASSERT_EQ(curve.size(), 2u);
    EXPECT_DOUBLE_EQ(curve[0].threshold, 0.9);
    EXPECT_DOUBLE_EQ(curve[0].coverage, 0.5);
    EXPECT_DOUBLE_EQ(curve[0].accuracy, 1.0);
    EXPECT_DOUBLE_EQ(curve[1].coverage, 1.0);
    EXPECT_DOUBLE_EQ(curve[1].accuracy, 0.75);
    const auto thin = thin_curve(coverage_curve({0.1, 0.2, 0.3, 0.4, 0.5}, {true, true, true, true, true}), 3);
    ASSERT_EQ(thin.size(), 3u);
    EXPECT_DOUBLE_EQ(thin[0].threshold, 0.5);
    EXPECT_DOUBLE_EQ(thin[1].threshold, 0.3);
    EXPECT_DOUBLE_EQ(thin[2].threshold, 0.1);
}

TEST(EvalMetrics, Histogram) {
    const Histogram h = histogram({0, 1, 2, 3, 10}, 2);
    EXPECT_DOUBLE_EQ(h.lower, 0);
    EXPECT_DOUBLE_EQ(h.upper, 10);
    EXPECT_EQ(h.counts, (std::vector<int64_t>{4, 1}));
    EXPECT_EQ(histogram({5, 5, 5}, 10).counts, (std::vector<int64_t>{3}));
    EXPECT_TRUE(histogram({}, 10).counts.empty());
}

TEST(EvalMetrics, CostPerThousandRequests) {
    const Metrics m = compute_metrics(hand_set());  // 7 answered, 100 in / 10 out each
    CostParams p;
    p.local = true;
    const CostSummary local = compute_cost(m, 7, p);
    EXPECT_DOUBLE_EQ(local.mean_prompt_tokens, 100);
    EXPECT_EQ(local.priced_as, "local estimate");
    EXPECT_NEAR(*local.per_1k_usd, 1000 * (100 * 0.02 + 10 * 0.02) / 1e6, 1e-12);   // 0.0022
    EXPECT_NEAR(*local.cloud_per_1k_usd, 1000 * (100 * 2.50 + 10 * 10.0) / 1e6, 1e-12);  // gpt-4o: 0.35
    // Routed at the recommended threshold (coverage 2/7): router always + 5/7 of the requests on gpt-4o.
    EXPECT_NEAR(*local.routed_per_1k_usd, 0.0022 + 5.0 / 7 * 0.35, 1e-12);
    EXPECT_NEAR(*local.savings_per_1k_usd, 0.35 - (0.0022 + 5.0 / 7 * 0.35), 1e-12);

    p.local = false;
    p.model = "gpt-4o-mini-2024-07-18";  // prefix lookup
    const CostSummary remote = compute_cost(m, 7, p);
    EXPECT_NEAR(*remote.per_1k_usd, 1000 * (100 * 0.15 + 10 * 0.60) / 1e6, 1e-12);
    EXPECT_FALSE(remote.routed_per_1k_usd);
    EXPECT_NEAR(*remote.savings_per_1k_usd, 0.35 - 0.021, 1e-12);
    p.model = "my-private-model";
    EXPECT_FALSE(compute_cost(m, 7, p).per_1k_usd);
}

}  // namespace
}  // namespace sy::eval
