// The pricing file and the monthly budget text.
#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const Prices kFlat{0.04, 0.005};

TEST(PriceTableTest, ParsesPoolsAndFallsBackToFlatPrices) {
  auto t = PriceTable::Parse(
      "# instance types\n"
      "label node.kubernetes.io/instance-type\n"
      "\n"
      "m5.large   0.048 0.0064   # on demand\n"
      "c5.xlarge\t0.0425\t0.0053\n",
      kFlat);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->label(), "node.kubernetes.io/instance-type");
  EXPECT_EQ(t->pools(), 2u);
  EXPECT_DOUBLE_EQ(t->For("m5.large").per_vcpu_hour, 0.048);
  EXPECT_DOUBLE_EQ(t->For("c5.xlarge").per_gb_hour, 0.0053);
  EXPECT_DOUBLE_EQ(t->For("t3.micro").per_vcpu_hour, 0.04);
  EXPECT_DOUBLE_EQ(t->For("").per_gb_hour, 0.005);
}

TEST(PriceTableTest, ReportsEveryProblemOnItsOwnLine) {
  auto t = PriceTable::Parse(
      "m5.large 0.048 0.0064\n"        // 1: before the label
      "label pool\n"                    // 2
      "a -1 0.005\n"                    // 3: negative
      "b 0.04 x\n"                      // 4: not a number
      "c 0.04\n"                        // 5: two fields
      "d 0.04 0.005\n"                  // 6: fine
      "d 0.05 0.005\n"                  // 7: twice
      "label other\n",                  // 8: second label
      kFlat);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "pricing line 1: a price before the 'label <key>' line\n"
            "pricing line 3: '-1' is not a price (USD per vCPU-hour >= 0)\n"
            "pricing line 4: 'x' is not a price (USD per GB-hour >= 0)\n"
            "pricing line 5: want '<label value> <USD per vCPU-hour> <USD per GB-hour>', got 2 "
            "field(s)\n"
            "pricing line 7: 'd' is priced twice\n"
            "pricing line 8: a second 'label' (the first is 'pool')");
}

TEST(PriceTableTest, AFileWithoutLabelIsAnError) {
  EXPECT_EQ(PriceTable::Parse("# nothing\n", kFlat).status().message(),
            "pricing: no 'label <node label key>' line");
  EXPECT_EQ(PriceTable::Parse("label a b\n", kFlat).status().message(),
            "pricing line 1: want 'label <node label key>'");
}

TEST(MonthlyBudgetTest, ParsesDollarsAndRejectsTheRest) {
  EXPECT_DOUBLE_EQ(*ParseMonthlyBudget("500"), 500);
  EXPECT_DOUBLE_EQ(*ParseMonthlyBudget(" $250.5 "), 250.5);
  for (const char* bad : {"", "0", "-5", "abc", "nan", "inf", "500/month"}) {
    EXPECT_EQ(ParseMonthlyBudget(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseMonthlyBudget("x").status().message(),
            "monthly budget 'x' is not a positive amount of USD per month");
}

}  // namespace
}  // namespace costs
