// CapPredicted against hand-computed budgets. One pod = 1000m + 1 GB = $0.045 per hour.
#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

GuardrailInput Input(absl::optional<double> budget, double current_monthly) {
  GuardrailInput in;
  in.blended_pct = 50;
  in.predicted_pct = 80;
  in.target_pct = 70;
  in.ready_pods = 7;
  in.cpu_request_millicores = 1000;
  in.memory_request_bytes = 1000000000;
  in.prices = {0.04, 0.005};
  in.expected_duration = absl::Hours(kHoursPerMonth);
  in.current_monthly_cost = current_monthly;
  in.monthly_budget = budget;
  return in;
}

TEST(GuardrailTest, PricesTheForecastHeadroom) {
  // 7 x (80 - 50) / 70 = 3 extra replicas x $0.045 x 730 h = $98.55.
  GuardrailDecision d = CapPredicted(Input(absl::nullopt, 100));
  EXPECT_NEAR(d.extra_replicas, 3, 1e-9);
  EXPECT_NEAR(d.pod_hourly_cost, 0.045, 1e-12);
  EXPECT_NEAR(d.monthly_cost_change, 98.55, 1e-9);
  EXPECT_FALSE(d.capped);
  EXPECT_EQ(d.predicted_pct, 80);
  // A 10-minute scale-up: 3 x 0.045 x 1/6 h = $0.0225.
  GuardrailInput brief = Input(absl::nullopt, 100);
  brief.expected_duration = absl::Minutes(10);
  EXPECT_NEAR(CapPredicted(brief).monthly_cost_change, 0.0225, 1e-12);
}

TEST(GuardrailTest, WithinTheBudgetNothingIsCapped) {
  GuardrailDecision d = CapPredicted(Input(200.0, 100));  // 100 + 98.55 <= 200
  EXPECT_FALSE(d.capped);
  EXPECT_EQ(d.predicted_pct, 80);
}

TEST(GuardrailTest, OverTheBudgetTheHeadroomIsCappedToWhatFits) {
  // $50 of room / $32.85 per replica-month = 1.52207 replicas -> 50 + 1.52207 x 70 / 7.
  GuardrailDecision d = CapPredicted(Input(200.0, 150));
  EXPECT_TRUE(d.capped);
  EXPECT_NEAR(d.predicted_pct, 50 + 50.0 / 32.85 * 10, 1e-9);
  EXPECT_NEAR(d.served_cost_change, 50, 1e-9);
  EXPECT_NEAR(d.monthly_cost_change, 98.55, 1e-9);
}

TEST(GuardrailTest, NeverCapsBelowTheMeasuredNeed) {
  // Already over budget: the forecast headroom goes, the measured load stays.
  GuardrailDecision d = CapPredicted(Input(200.0, 300));
  EXPECT_TRUE(d.capped);
  EXPECT_EQ(d.predicted_pct, 50);
  EXPECT_EQ(d.served_cost_change, 0);
  // A tiny budget with a load above the target: still the whole measured 120 %.
  GuardrailInput hot = Input(0.01, 1000);
  hot.blended_pct = 120;
  hot.predicted_pct = 150;
  EXPECT_EQ(CapPredicted(hot).predicted_pct, 120);
  // A forecast below the measured load is left alone.
  GuardrailInput low = Input(0.01, 1000);
  low.predicted_pct = 40;
  GuardrailDecision l = CapPredicted(low);
  EXPECT_FALSE(l.capped);
  EXPECT_EQ(l.predicted_pct, 40);
}

TEST(GuardrailTest, WithoutReadyPodsNothingIsCapped) {
  GuardrailInput in = Input(1.0, 1000);
  in.ready_pods = 0;
  GuardrailDecision d = CapPredicted(in);
  EXPECT_FALSE(d.capped);
  EXPECT_EQ(d.predicted_pct, 80);
}

}  // namespace
}  // namespace costs
