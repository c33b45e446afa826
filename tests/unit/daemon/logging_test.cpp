#include "daemon/logging.h"

#include <gtest/gtest.h>

#include <string>

namespace hpan::daemon {
namespace {

TEST(Logging, KeepsPrintableTextAndUtf8AsItIs) {
  EXPECT_EQ(log_safe("delivery HPAN-2026-000001-v1-RQ1-webhook: HTTP 503"),
            "delivery HPAN-2026-000001-v1-RQ1-webhook: HTTP 503");
  EXPECT_EQ(log_safe("Zoë 🙂"), "Zoë 🙂");
}

TEST(Logging, EscapesWhatCouldBreakOrForgeALine) {
  EXPECT_EQ(log_safe("a\r\n<0>hpand: forged"), "a\\x0d\\x0a<0>hpand: forged");
  EXPECT_EQ(log_safe(std::string("\0\t\x1b[2J\x7f", 7)), "\\x00\\x09\\x1b[2J\\x7f");
  EXPECT_EQ(log_safe("a\u0085b\u009bc\u2028d\u2029"), "a\\u0085b\\u009bc\\u2028d\\u2029");
}

TEST(Logging, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(log_safe("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(log_safe("\xc0\x8a"), "\\xc0\\x8a");           // overlong LF
  EXPECT_EQ(log_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(log_safe("ok\xe2\x82"), "ok\\xe2\\x82");       // cut short
}

TEST(Logging, CutsLongTextSayingHowMuch) {
  EXPECT_EQ(log_safe(std::string(100, 'x'), 10), std::string(10, 'x') + "... (90 more bytes)");
  EXPECT_EQ(log_safe(std::string(1 << 20, 'x')).size(), kMaxLogMessageBytes + 24);
}

TEST(Logging, EveryLoggerWritesOneSafeLinePerMessage) {
  setup_logging("info", "journal");
  testing::internal::CaptureStderr();
  logger("control")->warn("request method={} id={}", "x\r\n<0>hpand: forged",
                          std::string(5000, 'y'));
  logger("hpand")->info("plain");  // the default logger
  const std::string out = testing::internal::GetCapturedStderr();
  const auto eol = out.find('\n');
  ASSERT_NE(eol, std::string::npos);
  const std::string first = out.substr(0, eol);
  EXPECT_EQ(first.rfind("<4>control: request method=x\\x0d\\x0a<0>hpand: forged id=yyy", 0), 0u)
      << first;
  EXPECT_LT(first.size(), kMaxLogMessageBytes + 64);
  EXPECT_NE(first.find("yyy... ("), std::string::npos);
  EXPECT_EQ(out.substr(eol + 1), "<6>hpand: plain\n");
}

}  // namespace
}  // namespace hpan::daemon
