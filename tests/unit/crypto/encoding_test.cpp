#include "crypto/encoding.h"

#include <gtest/gtest.h>

#include "crypto/secure_buffer.h"

namespace hpan::crypto {
namespace {

TEST(Base64, RoundTripsWithTheStandardAlphabetAndPadding) {
  const std::string data("\xfb\xff\x00 hpan", 8);
  const std::string text = base64_encode(std::string_view(data.data(), data.size()));
  EXPECT_EQ(text, "+/8AIGhwYW4=");
  auto back = base64_decode(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->begin(), back->end()), data);
}

TEST(Base64, RefusesMissingPaddingWhitespaceAndTheUrlAlphabet) {
  EXPECT_EQ(base64_decode("aGk").error().code, "bad_base64");
  EXPECT_EQ(base64_decode("aGk=\n").error().code, "bad_base64");
  EXPECT_EQ(base64_decode("-_8A").error().code, "bad_base64");
  EXPECT_EQ(base64_decode("a$k=").error().code, "bad_base64");
  EXPECT_TRUE(base64_decode("").ok());
}

TEST(Hex, RoundTripsAndRefusesOddLengths) {
  const std::uint8_t bytes[] = {0x00, 0xab, 0xff};
  EXPECT_EQ(hex_encode(bytes), "00abff");
  EXPECT_EQ(hex_decode("00abf").error().code, "bad_hex");
  EXPECT_EQ(hex_decode("zz").error().code, "bad_hex");
}

TEST(Hashes, MatchKnownAnswers) {
  // FIPS 180-2 "abc"; RFC 4231 test case 2 (HMAC-SHA-256).
  EXPECT_EQ(hex_encode(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string key = "Jefe";
  EXPECT_EQ(hex_encode(hmac_sha256(as_bytes(key), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SecureBuffer, MovesOwnershipAndComparesInConstantTime) {
  SecureBuffer a(32);
  a.data()[0] = 7;
  SecureBuffer b(std::move(a));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_EQ(a.data(), nullptr);
  ASSERT_EQ(b.size(), 32u);
  std::vector<std::uint8_t> same(32, 0);
  same[0] = 7;
  EXPECT_TRUE(b.equals(same));
  same[31] = 1;
  EXPECT_FALSE(b.equals(same));
  EXPECT_FALSE(b.equals(std::vector<std::uint8_t>(31, 0)));
  static_assert(!std::is_copy_constructible_v<SecureBuffer>);
}

}  // namespace
}  // namespace hpan::crypto
