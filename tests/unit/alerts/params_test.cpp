#include "alerts/params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hpan::alerts {
namespace {

using nlohmann::json;

TEST(Params, TextRefusesC0DelC1AndLineSeparators) {
  const std::vector<std::string> single = {
      "a\rb",       "a\nb",     "a\tb",    std::string("a\0b", 3), "a\x1b[2J", "a\x7f", "a\u0085b",
      "a\u009b31m", "a\u2028b", "a\u2029b"};
  for (const auto& bad : single) {
    EXPECT_FALSE(text_problem(bad, false).empty()) << json(bad).dump();
  }
  for (const auto& bad : std::vector<std::string>{"a\rb", "a\x0b", "a\u0085b", "a\u2028b"})
    EXPECT_FALSE(text_problem(bad, true).empty()) << json(bad).dump();
  EXPECT_EQ(text_problem("line one\n\tline two", true), "");
  EXPECT_EQ(text_problem("Zoë O'Brien-Łukasz 🙂 \u00a0\u2027\u202f", false), "");
  EXPECT_EQ(text_problem("a\u2028b", true),
            "contains a line or paragraph separator (U+2028, U+2029)");
}

TEST(Params, StringParamsNameTheFieldOfAControlCharacter) {
  auto r =
      param_string(json{{"reason", "ok\u0085Bcc: x@evil.example"}}, "reason", true, 1000, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_field");
  EXPECT_EQ(r.error().field, "reason");
  EXPECT_TRUE(param_string(json{{"reason", "two\nlines"}}, "reason", true, 1000, true).ok());
}

TEST(Params, AnUnknownKeyIsNamedEscapedAndBounded) {
  auto r = param_only(json{{"k\r\nBcc: x", 1}}, {"id"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "k\\x0d\\x0aBcc: x");
  EXPECT_EQ(caller_key(std::string(1 << 20, 'k')), std::string(64, 'k') + "...");
  EXPECT_EQ(caller_key("caf\xc3\xa9"), "caf\\xc3\\xa9");
}

}  // namespace
}  // namespace hpan::alerts
