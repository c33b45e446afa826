#include "crypto/notice_envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hpan::crypto {
namespace {

using nlohmann::json;

class Envelope : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_.add(issuer_.public_key(), true);
    payload_ = *canonical_json(json{{"schema", "hpan.notice/1"}, {"body_id", "RJ1"}, {"notice_id", "HPAN-2026-000001"}});
  }
  SigningKey issuer_ = SigningKey::generate();
  RecipientKeyPair body_ = RecipientKeyPair::generate();
  Keyset keyset_;
  std::string payload_;
};

TEST(CanonicalJson, SortsKeysDropsWhitespaceAndKeepsUtf8) {
  json v = json::parse(R"({ "b": 1, "a": {"y": [true, null], "x": "é\u0001"} })");
  EXPECT_EQ(*canonical_json(v), "{\"a\":{\"x\":\"é\\u0001\",\"y\":[true,null]},\"b\":1}");
}

TEST(CanonicalJson, RefusesFloatsNamingThePath) {
  auto r = canonical_json(json{{"a", {{"b", 1.5}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_canonicalisable");
  EXPECT_EQ(r.error().field, "a.b");
}

TEST(CanonicalJson, RefusesInvalidUtf8) {
  json v = {{"a", std::string("\xff\xfe")}};
  EXPECT_EQ(canonical_json(v).error().code, "not_canonicalisable");
}

TEST_F(Envelope, OpensWhatItSeals) {
  auto opened = open_notice(seal_notice(issuer_, payload_, body_.public_key()), body_, keyset_, "RJ1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->payload, payload_);
  EXPECT_EQ(opened->kid, issuer_.kid());
  EXPECT_EQ(opened->body_id, "RJ1");
}

TEST_F(Envelope, UnreadableInputIsRefusedFirst) {
  EXPECT_EQ(open_notice("not base64!", body_, keyset_).error().code, "unreadable");
  EXPECT_EQ(open_notice(base64_encode(std::string("short")), body_, keyset_).error().code, "unreadable");
}

TEST_F(Envelope, AnotherBodysKeyDoesNotOpenIt) {
  const auto other = RecipientKeyPair::generate();
  EXPECT_EQ(open_notice(seal_notice(issuer_, payload_, body_.public_key()), other, keyset_).error().code,
            "wrong_recipient_key");
}

TEST_F(Envelope, AnAlteredBoxDoesNotOpen) {
  auto sealed = *base64_decode(seal_notice(issuer_, payload_, body_.public_key()));
  sealed[sealed.size() / 2] ^= 0x01;
  EXPECT_EQ(open_notice(base64_encode(sealed), body_, keyset_).error().code, "wrong_recipient_key");
}

TEST_F(Envelope, AMalformedEnvelopeIsRefused) {
  for (const std::string& env : {std::string("[]"), std::string("{\"kid\":\"x\"}"),
                                std::string("{\"kid\":\"x\",\"payload\":\"@@\",\"sig\":\"AA==\"}"),
                                std::string("not json")}) {
    const auto sealed = base64_encode(seal(as_bytes(env), body_.public_key()));
    EXPECT_EQ(open_notice(sealed, body_, keyset_).error().code, "malformed_envelope") << env;
  }
}

TEST_F(Envelope, AnUnknownKeyIdIsRefused) {
  const auto stranger = SigningKey::generate();
  EXPECT_EQ(open_notice(seal_notice(stranger, payload_, body_.public_key()), body_, keyset_).error().code,
            "unknown_key_id");
}

TEST_F(Envelope, ABadSignatureIsRefusedAndThePayloadNeverReturned) {
  json env = json::parse(make_signed_envelope(issuer_, payload_));
  // Same kid, another payload: the signature no longer matches.
  env["payload"] = base64_encode(*canonical_json(json{{"schema", "hpan.notice/1"}, {"body_id", "EVIL"}}));
  const auto sealed = base64_encode(seal(as_bytes(env.dump()), body_.public_key()));
  auto r = open_notice(sealed, body_, keyset_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_signature");
  EXPECT_EQ(r.error().message.find("EVIL"), std::string::npos);
}

TEST_F(Envelope, APayloadWithoutSchemaOrForAnotherBodyIsMalformed) {
  const std::string no_schema = *canonical_json(json{{"body_id", "RJ1"}});
  EXPECT_EQ(open_notice(seal_notice(issuer_, no_schema, body_.public_key()), body_, keyset_).error().field, "schema");
  const std::string no_body = *canonical_json(json{{"schema", "hpan.notice/1"}});
  EXPECT_EQ(open_notice(seal_notice(issuer_, no_body, body_.public_key()), body_, keyset_).error().field, "body_id");
  // Re-sealed to us, but signed for RJ1: refused when we are someone else.
  auto r = open_notice(seal_notice(issuer_, payload_, body_.public_key()), body_, keyset_, "RX9");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "malformed_payload");
  EXPECT_EQ(r.error().field, "body_id");
}

TEST_F(Envelope, RotatedKeysStillVerify) {
  const auto next = SigningKey::generate();
  keyset_.add(next.public_key(), true);
  EXPECT_TRUE(open_notice(seal_notice(issuer_, payload_, body_.public_key()), body_, keyset_).ok());
  EXPECT_TRUE(open_notice(seal_notice(next, payload_, body_.public_key()), body_, keyset_).ok());
}

}  // namespace
}  // namespace hpan::crypto
