#include "adapter/selector.h"

#include "gtest/gtest.h"

namespace adapter {
namespace {

using Labels = std::map<std::string, std::string>;

Selector P(absl::string_view text) {
  absl::StatusOr<Selector> s = Selector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : Selector();
}

std::string Err(absl::string_view text) {
  absl::StatusOr<Selector> s = Selector::Parse(text);
  EXPECT_FALSE(s.ok()) << text;
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(SelectorTest, EmptyMatchesEverything) {
  EXPECT_TRUE(P("").Matches({}));
  EXPECT_TRUE(P("  ").Matches({{"a", "b"}}));
  EXPECT_TRUE(P("").empty());
}

TEST(SelectorTest, EqualityOperators) {
  Labels l = {{"deployment", "api"}, {"env", "prod"}};
  EXPECT_TRUE(P("deployment=api").Matches(l));
  EXPECT_TRUE(P("deployment==api").Matches(l));
  EXPECT_FALSE(P("deployment=web").Matches(l));
  EXPECT_TRUE(P("deployment!=web").Matches(l));
  EXPECT_TRUE(P("missing!=x").Matches(l));
  EXPECT_FALSE(P("deployment!=api").Matches(l));
  EXPECT_TRUE(P("deployment = api , env= prod").Matches(l));
  EXPECT_TRUE(P("empty=").Matches({{"empty", ""}}));
}

TEST(SelectorTest, SetOperatorsAndExistence) {
  Labels l = {{"env", "prod"}};
  EXPECT_TRUE(P("env in (prod,stage)").Matches(l));
  EXPECT_FALSE(P("env in (dev)").Matches(l));
  EXPECT_TRUE(P("env notin (dev)").Matches(l));
  EXPECT_TRUE(P("other notin (dev)").Matches(l));
  EXPECT_FALSE(P("env notin (prod)").Matches(l));
  EXPECT_TRUE(P("env").Matches(l));
  EXPECT_FALSE(P("!env").Matches(l));
  EXPECT_TRUE(P("!other").Matches(l));
  EXPECT_TRUE(P("x in (foo,,baz)").Matches({{"x", ""}}));
  EXPECT_TRUE(P("x in ()").requirements()[0].values.empty());
  EXPECT_TRUE(P("in in (in,notin)").Matches({{"in", "notin"}}));
}

TEST(SelectorTest, IntegerComparisons) {
  EXPECT_TRUE(P("replicas>2").Matches({{"replicas", "3"}}));
  EXPECT_FALSE(P("replicas<2").Matches({{"replicas", "3"}}));
  EXPECT_FALSE(P("replicas>2").Matches({{"replicas", "x"}}));
  EXPECT_NE(Err("replicas>two").find("must be an integer"), std::string::npos);
}

TEST(SelectorTest, PrefixedKeys) {
  EXPECT_TRUE(
      P("scaledobject.keda.sh/name=my-obj").Matches({{"scaledobject.keda.sh/name", "my-obj"}}));
  EXPECT_NE(Err("Bad.Prefix/name=x").find("prefix"), std::string::npos);
}

TEST(SelectorTest, ReportsSyntaxErrors) {
  EXPECT_EQ(Err("(a"),
            "unable to parse requirement: found '(', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(Err("a in b"), "unable to parse requirement: found 'b', expected: '('");
  EXPECT_EQ(Err("a=b,"), "unable to parse requirement: found '', expected: identifier after ','");
  EXPECT_EQ(Err("a b"),
            "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', 'notin', '>' "
            "or '<'");
  EXPECT_NE(Err("a in (b"), "");
  EXPECT_NE(Err("a=b=c"), "");
  EXPECT_NE(Err("!a=b"), "");
  EXPECT_NE(Err("a=(b)"), "");
  EXPECT_NE(Err("=b"), "");
  EXPECT_NE(Err(std::string(64, 'a') + "=b").find("invalid label key"), std::string::npos);
  EXPECT_NE(Err("a=" + std::string(64, 'b')).find("invalid label value"), std::string::npos);
  EXPECT_NE(Err("a=-b").find("invalid label value"), std::string::npos);
  EXPECT_NE(Err("a=b;c"), "");
}

TEST(SelectorTest, LongSelectorsParseInLinearTime) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "k" + std::to_string(i) + "=v,";
  text += "last";
  EXPECT_EQ(P(text).requirements().size(), 2001u);
}

TEST(SelectorTest, ExactValueAndCanonicalString) {
  Selector s = P("queue=orders,env in (stage,prod),!canary");
  std::string v;
  EXPECT_TRUE(s.ExactValue("queue", &v));
  EXPECT_EQ(v, "orders");
  EXPECT_FALSE(s.ExactValue("env", &v));
  EXPECT_EQ(s.String(), "!canary,env in (prod,stage),queue=orders");
  EXPECT_EQ(
      s.ToLabelSelectorJson(),
      R"({"matchLabels":{"queue":"orders"},"matchExpressions":[{"key":"canary","operator":"DoesNotExist"},{"key":"env","operator":"In","values":["prod","stage"]}]})");
  EXPECT_EQ(P("").ToLabelSelectorJson(), "{}");
}

}  // namespace
}  // namespace adapter
