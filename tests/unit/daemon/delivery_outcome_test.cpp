// What webhook statuses, Retry-After headers and SMTP replies come to, and that a
// remote server's words are kept only as printable ASCII.
#include "daemon/delivery_outcome.h"

#include <gtest/gtest.h>

namespace hpan::daemon {
namespace {

TEST(DeliveryOutcome, RetryAfterIsReadInItsSecondsFormOnly) {
  EXPECT_EQ(parse_retry_after_header("Retry-After: 120\r\n"), 120);
  EXPECT_EQ(parse_retry_after_header("retry-after:7"), 7);
  EXPECT_EQ(parse_retry_after_header("RETRY-AFTER: \t0 \r\n"), 0);
  for (const char* bad : {"Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n", "Retry-After: -5", "Retry-After:",
                          "Retry-After: 99999999999", "Retry-After: 12abc", "X-Retry-After: 5", "Retry"})
    EXPECT_FALSE(parse_retry_after_header(bad)) << bad;
}

TEST(DeliveryOutcome, WebhookStatusesAreDeliveredRetriedOrDead) {
  EXPECT_EQ(classify_webhook(true, 204, "", std::nullopt).outcome, "delivered");
  EXPECT_EQ(classify_webhook(true, 410, "", std::nullopt).outcome, "dead");
  EXPECT_EQ(classify_webhook(true, 400, "", std::nullopt).detail, "HTTP 400 (permanent)");
  EXPECT_EQ(classify_webhook(true, 301, "", std::nullopt).outcome, "dead");
  auto limited = classify_webhook(true, 429, "", 30);
  EXPECT_EQ(limited.outcome, "retry");
  EXPECT_EQ(limited.retry_after, 30);
  EXPECT_EQ(classify_webhook(true, 408, "", std::nullopt).outcome, "retry");
  EXPECT_EQ(classify_webhook(true, 503, "", std::nullopt).outcome, "retry");
  EXPECT_EQ(classify_webhook(true, 799, "", std::nullopt).outcome, "retry");
  auto refused = classify_webhook(false, 0, "Failed to connect to 127.0.0.1 port 1: Connection refused", std::nullopt);
  EXPECT_EQ(refused.outcome, "retry");
  EXPECT_EQ(refused.detail, "Failed to connect to 127.0.0.1 port 1: Connection refused");
}

TEST(DeliveryOutcome, SmtpRepliesArePermanentOnlyWhen5xx) {
  EXPECT_EQ(classify_smtp(true, false, 250, "").outcome, "delivered");
  auto refused = classify_smtp(false, false, 550, "RCPT failed: 550");
  EXPECT_EQ(refused.outcome, "dead");
  EXPECT_EQ(refused.detail, "SMTP 550 (permanent): RCPT failed: 550");
  EXPECT_EQ(classify_smtp(false, false, 451, "try later").outcome, "retry");
  EXPECT_EQ(classify_smtp(false, true, 0, "").outcome, "retry");
  EXPECT_NE(classify_smtp(false, true, 0, "").detail.find("STARTTLS"), std::string::npos);
}

TEST(DeliveryOutcome, ARemoteServersWordsAreKeptPrintableAndShort) {
  using namespace std::string_literals;
  const std::string evil = "550 no\r\nX-Injected: yes\x1b[31m caf\xc3\xa9\x00 end"s;
  const std::string d = printable_detail(std::string_view(evil.data(), evil.size()));
  EXPECT_EQ(d, "550 no X-Injected: yes?[31m caf??? end");
  for (char c : d) EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << int(c);
  const std::string longer(5000, 'x');
  EXPECT_EQ(printable_detail(longer).size(), kMaxDetail);
  EXPECT_EQ(printable_detail(longer).substr(kMaxDetail - 3), "...");
  EXPECT_EQ(printable_detail("  \r\n "), "");
  auto smtp = classify_smtp(false, false, 554, evil);
  EXPECT_EQ(smtp.detail.find('\n'), std::string::npos);
  EXPECT_EQ(smtp.detail.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace hpan::daemon
