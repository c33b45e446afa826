// The committed worked vectors (tests/vectors/notice-v1.json, made with PyNaCl) are
// reproduced exactly by our code: key id, signature, envelope; the sealed example opens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/notice_envelope.h"

namespace hpan::crypto {
namespace {

nlohmann::json vectors() {
  const char* src = std::getenv("HPAN_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/tests/vectors/notice-v1.json");
  EXPECT_TRUE(in.good()) << "HPAN_SOURCE_DIR must point at the source tree";
  return nlohmann::json::parse(in);
}

Bytes b64(const nlohmann::json& v) { return *base64_decode(v.get<std::string>()); }

TEST(Vectors, ReproduceTheKeyIdSignatureAndEnvelopeExactly) {
  const auto v = vectors();
  auto key = SigningKey::from_seed(b64(v["signing_seed"]));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(base64_encode(key->public_key().bytes), v["signing_public_key"]);
  EXPECT_EQ(key->kid(), v["kid"]);
  const std::string payload = v["payload"];
  // The payload is canonical: re-canonicalising it changes nothing.
  EXPECT_EQ(*canonical_json(nlohmann::json::parse(payload)), payload);
  const auto sig = key->sign_detached(std::string(kNoticeSignaturePrefix) + payload);
  EXPECT_EQ(base64_encode(sig), v["signature"]);
  EXPECT_EQ(make_signed_envelope(*key, payload), v["envelope"]);
}

TEST(Vectors, TheSealedExampleOpensWithTheRecipientKey) {
  const auto v = vectors();
  auto body = RecipientKeyPair::from_secret(b64(v["recipient_secret_key"]));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(base64_encode(body->public_key().bytes), v["recipient_public_key"]);
  EXPECT_EQ(body->public_key().fingerprint(), v["recipient_fingerprint"]);
  auto keyset = Keyset::from_json(v["keyset"].get<std::string>());
  ASSERT_TRUE(keyset.ok());
  EXPECT_EQ(keyset->to_json(), v["keyset"]);
  auto opened = open_notice(v["sealed"].get<std::string>(), *body, *keyset, "RJ1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->payload, v["payload"]);
}

}  // namespace
}  // namespace hpan::crypto
