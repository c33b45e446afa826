#include "alerts/delivery_message.h"

#include <gtest/gtest.h>

#include "crypto/notice_envelope.h"

namespace hpan::alerts {
namespace {

using nlohmann::json;

class DeliveryMessage : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_.add(key_.public_key(), true);
    d_.delivery_id = "HPAN-2026-000001-v1-RJ1-webhook";
    d_.notice_id = "HPAN-2026-000001";
    d_.version = 1;
    d_.body_id = "RJ1";
    d_.channel = "webhook";
    d_.address = "https://rj1.example.nhs.uk/hpan";
    d_.message_type = "issued";
    d_.body_public_key = crypto::base64_encode(body_.public_key().bytes);
  }
  json payload_base() const {
    return {{"schema", "hpan.notice/1"}, {"type", "issued"}, {"notice_id", d_.notice_id}, {"version", 1},
            {"practitioner", {{"full_name", "Dr Test Example"}}}};
  }
  crypto::SigningKey key_ = crypto::SigningKey::generate();
  crypto::RecipientKeyPair body_ = crypto::RecipientKeyPair::generate();
  crypto::Keyset keyset_;
  OutboundDelivery d_;
};

TEST_F(DeliveryMessage, AWebhookCarriesTheSealedNoticeAndStandardWebhooksHeaders) {
  auto req = build_webhook(d_, payload_base(), key_, 1795521600);
  ASSERT_TRUE(req.ok()) << req.error().message;
  const json body = json::parse(req->body);
  EXPECT_EQ(body["type"], "hpan.notice.issued");
  EXPECT_EQ(body["body_id"], "RJ1");
  auto opened = crypto::open_notice(body["sealed"].get<std::string>(), body_, keyset_, "RJ1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(json::parse(opened->payload)["practitioner"]["full_name"], "Dr Test Example");
  std::map<std::string, std::string> h(req->headers.begin(), req->headers.end());
  EXPECT_EQ(h["webhook-id"], d_.delivery_id);
  EXPECT_EQ(h["webhook-timestamp"], "1795521600");
  ASSERT_EQ(h["webhook-signature"].rfind("v1a,", 0), 0u);
  const auto sig = crypto::base64_decode(h["webhook-signature"].substr(4));
  ASSERT_TRUE(sig.ok());
  const std::string signed_content = d_.delivery_id + ".1795521600." + req->body;
  EXPECT_TRUE(crypto::verify_detached(key_.public_key(), crypto::as_bytes(signed_content), *sig));
  // No personal data outside the sealed box.
  EXPECT_EQ(req->body.find("Test Example"), std::string::npos);
}

TEST_F(DeliveryMessage, AWebhookWithASharedSecretAlsoCarriesAnHmac) {
  const std::string secret_raw(32, '\x42');
  d_.webhook_secret = crypto::base64_encode(secret_raw);
  auto req = build_webhook(d_, payload_base(), key_, 1795521600);
  ASSERT_TRUE(req.ok());
  std::map<std::string, std::string> h(req->headers.begin(), req->headers.end());
  const auto space = h["webhook-signature"].find(" v1,");
  ASSERT_NE(space, std::string::npos);
  const std::string expected = crypto::base64_encode(
      crypto::hmac_sha256(crypto::as_bytes(secret_raw), d_.delivery_id + ".1795521600." + req->body));
  EXPECT_EQ(h["webhook-signature"].substr(space + 4), expected);
}

TEST_F(DeliveryMessage, AnEmailHasATextPartWithoutPersonalDataAndTheSealedAttachment) {
  d_.channel = "email";
  d_.address = "hpan@rj1.example.nhs.uk, duty@rj1.example.nhs.uk";
  auto mail = build_email(d_, payload_base(), key_, "hpan@issuer.example.nhs.uk", 1795521600);
  ASSERT_TRUE(mail.ok()) << mail.error().message;
  EXPECT_EQ(mail->recipients, (std::vector<std::string>{"hpan@rj1.example.nhs.uk", "duty@rj1.example.nhs.uk"}));
  const std::string& m = mail->data;
  EXPECT_NE(m.find("Message-ID: <HPAN-2026-000001-v1-RJ1-webhook@hpand.invalid>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: HPAN notice HPAN-2026-000001 version 1 (issued)\r\n"), std::string::npos);
  EXPECT_NE(m.find("filename=\"HPAN-2026-000001-v1.hpan\""), std::string::npos);
  EXPECT_EQ(m.find("Test Example"), std::string::npos);
  // The attachment opens.
  const std::string marker = "Content-Transfer-Encoding: 7bit\r\n\r\n";
  const auto start = m.find(marker, m.find("attachment")) + marker.size();
  const auto end = m.find("\r\n\r\n--", start);
  std::string sealed = m.substr(start, end - start);
  sealed.erase(std::remove(sealed.begin(), sealed.end(), '\r'), sealed.end());
  sealed.erase(std::remove(sealed.begin(), sealed.end(), '\n'), sealed.end());
  EXPECT_TRUE(crypto::open_notice(sealed, body_, keyset_, "RJ1").ok());
}

TEST_F(DeliveryMessage, NoFieldCanCreateAHeader) {
  d_.address = "hpan@rj1.example.nhs.uk\r\nBcc: spy@example.com";
  auto mail = build_email(d_, payload_base(), key_, "hpan@issuer.example.nhs.uk", 1795521600);
  ASSERT_FALSE(mail.ok());
  EXPECT_EQ(mail.error().code, "invalid_header");
  d_.address = "hpan@rj1.example.nhs.uk";
  d_.notice_id = "HPAN-1\r\nBcc: spy@example.com";
  mail = build_email(d_, payload_base(), key_, "hpan@issuer.example.nhs.uk", 1795521600);
  ASSERT_FALSE(mail.ok());
  EXPECT_EQ(mail.error().code, "invalid_header");
  EXPECT_FALSE(build_email(d_, payload_base(), key_, "evil\n@x", 1).ok());
  EXPECT_FALSE(check_header_value("X", "caf\xc3\xa9").ok());
  EXPECT_FALSE(check_header_value("X", std::string(901, 'a')).ok());
  EXPECT_TRUE(check_header_value("X", "plain ascii value").ok());
}

}  // namespace
}  // namespace hpan::alerts
