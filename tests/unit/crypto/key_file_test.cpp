#include "crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/unit/crypto/temp_dir.h"

namespace hpan::crypto {
namespace {

using hpan::testing::TempDir;

void write_text(const std::filesystem::path& p, const std::string& text, mode_t mode = 0600) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
}

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST(KeyFile, SigningKeysRoundTripWithTheRightModes) {
  TempDir dir;
  const auto key = SigningKey::generate();
  ASSERT_TRUE(write_signing_key_file(dir / "s.key", key).ok());
  ASSERT_TRUE(write_signing_public_key_file(dir / "s.key.pub", key.public_key()).ok());
  EXPECT_EQ(mode_of(dir / "s.key"), 0600u);
  EXPECT_EQ(mode_of(dir / "s.key.pub"), 0640u);
  auto back = read_signing_key_file(dir / "s.key");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->kid(), key.kid());
  auto pub = read_signing_public_key_file(dir / "s.key.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, key.public_key());
}

TEST(KeyFile, RecipientKeysRoundTripAndDeriveThePublicKey) {
  TempDir dir;
  const auto pair = RecipientKeyPair::generate();
  ASSERT_TRUE(write_recipient_key_file(dir / "r.key", pair).ok());
  auto back = read_recipient_key_file(dir / "r.key");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->public_key(), pair.public_key());
}

TEST(KeyFile, RefusesToOverwriteWithoutForce) {
  TempDir dir;
  const auto key = SigningKey::generate();
  ASSERT_TRUE(write_signing_key_file(dir / "s.key", key).ok());
  auto again = write_signing_key_file(dir / "s.key", SigningKey::generate());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "exists");
  EXPECT_EQ(read_signing_key_file(dir / "s.key")->kid(), key.kid());
  EXPECT_TRUE(write_signing_key_file(dir / "s.key", SigningKey::generate(), {.force = true}).ok());
}

TEST(KeyFile, RefusesASecretKeyReadableByGroupOrOthers) {
  TempDir dir;
  ASSERT_TRUE(write_signing_key_file(dir / "s.key", SigningKey::generate()).ok());
  for (mode_t m : {0640u, 0604u, 0660u, 0622u}) {
    ::chmod((dir / "s.key").c_str(), m);
    auto r = read_signing_key_file(dir / "s.key");
    ASSERT_FALSE(r.ok()) << std::oct << m;
    EXPECT_EQ(r.error().code, "insecure_permissions");
    EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
  }
  // A public key file may be world-readable.
  const auto key = SigningKey::generate();
  ASSERT_TRUE(write_signing_public_key_file(dir / "p.pub", key.public_key()).ok());
  EXPECT_TRUE(read_signing_public_key_file(dir / "p.pub").ok());
}

TEST(KeyFile, ASystemdCredentialMayShowGroupReadButNothingMore) {
  // systemd passes LoadCredential= files to a non-root service through an ACL whose
  // mask shows as group read (0440). Only inside $CREDENTIALS_DIRECTORY.
  TempDir creds;
  TempDir elsewhere;
  const auto key = SigningKey::generate();
  ASSERT_TRUE(write_signing_key_file(creds / "signing.key", key).ok());
  ASSERT_TRUE(write_signing_key_file(elsewhere / "signing.key", key).ok());
  ::chmod((creds / "signing.key").c_str(), 0440);
  ::chmod((elsewhere / "signing.key").c_str(), 0440);
  ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
  EXPECT_TRUE(read_signing_key_file(creds / "signing.key").ok());
  EXPECT_FALSE(read_signing_key_file(elsewhere / "signing.key").ok());
  for (mode_t m : {0460u, 0444u, 0404u}) {
    ::chmod((creds / "signing.key").c_str(), m);
    auto r = read_signing_key_file(creds / "signing.key");
    ASSERT_FALSE(r.ok()) << std::oct << m;
    EXPECT_EQ(r.error().code, "insecure_permissions");
  }
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ::chmod((creds / "signing.key").c_str(), 0440);
  EXPECT_FALSE(read_signing_key_file(creds / "signing.key").ok());
}

TEST(KeyFile, RefusesTheWrongTypeNamingBoth) {
  TempDir dir;
  const auto pair = RecipientKeyPair::generate();
  ASSERT_TRUE(write_recipient_key_file(dir / "r.key", pair).ok());
  auto r = read_signing_key_file(dir / "r.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "wrong_key_type");
  EXPECT_NE(r.error().message.find("hpan-signing-secret-key/1"), std::string::npos);
  EXPECT_NE(r.error().message.find("hpan-recipient-secret-key/1"), std::string::npos);
  EXPECT_NE(r.error().message.find((dir / "r.key").string()), std::string::npos);
}

TEST(KeyFile, RefusesTheWrongLength) {
  TempDir dir;
  write_text(dir / "s.key", "hpan-signing-secret-key/1\n" + base64_encode(std::string(31, 'x')) + "\n");
  EXPECT_EQ(read_signing_key_file(dir / "s.key").error().code, "bad_key_length");
  write_text(dir / "p.pub", "hpan-recipient-public-key/1\n" + base64_encode(std::string(33, 'x')) + "\n", 0644);
  EXPECT_EQ(read_recipient_public_key_file(dir / "p.pub").error().code, "bad_key_length");
}

TEST(KeyFile, RefusesBrokenBase64) {
  TempDir dir;
  write_text(dir / "s.key", "hpan-signing-secret-key/1\nnot*base64*at*all=\n");
  EXPECT_EQ(read_signing_key_file(dir / "s.key").error().code, "bad_base64");
}

TEST(KeyFile, RefusesMissingLinesExtraContentAndOversizedFiles) {
  TempDir dir;
  write_text(dir / "a.key", "hpan-signing-secret-key/1");
  EXPECT_EQ(read_signing_key_file(dir / "a.key").error().code, "malformed_key_file");
  write_text(dir / "b.key", "hpan-signing-secret-key/1\n\n");
  EXPECT_EQ(read_signing_key_file(dir / "b.key").error().code, "malformed_key_file");
  write_text(dir / "c.key", "hpan-signing-secret-key/1\n" + base64_encode(std::string(32, 'x')) + "\nextra\n");
  EXPECT_EQ(read_signing_key_file(dir / "c.key").error().code, "malformed_key_file");
  write_text(dir / "d.key", "hpan-signing-secret-key/1\n" + std::string(5000, 'A') + "\n");
  EXPECT_EQ(read_signing_key_file(dir / "d.key").error().code, "malformed_key_file");
  write_text(dir / "e.key", std::string("hpan-signing-secret-key/1\n\0\0", 28));
  EXPECT_EQ(read_signing_key_file(dir / "e.key").error().code, "malformed_key_file");
}

TEST(KeyFile, ReportsAMissingFileWithItsName) {
  auto r = read_signing_key_file("/nonexistent/hpan/s.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "io_error");
  EXPECT_NE(r.error().message.find("/nonexistent/hpan/s.key"), std::string::npos);
}

TEST(KeyFile, DoesNotFollowSymlinks) {
  TempDir dir;
  ASSERT_TRUE(write_signing_key_file(dir / "real.key", SigningKey::generate()).ok());
  std::filesystem::create_symlink(dir / "real.key", dir / "link.key");
  EXPECT_EQ(read_signing_key_file(dir / "link.key").error().code, "io_error");
}

TEST(KeyFile, ParsesAPublicKeyGivenAsFileTextOrBareBase64) {
  const auto pair = RecipientKeyPair::generate();
  const std::string b64 = base64_encode(pair.public_key().bytes);
  EXPECT_EQ(*parse_recipient_public_key(b64, "public_key"), pair.public_key());
  EXPECT_EQ(*parse_recipient_public_key("hpan-recipient-public-key/1\n" + b64 + "\n", "public_key"),
            pair.public_key());
  auto wrong = parse_recipient_public_key("hpan-signing-public-key/1\n" + b64 + "\n", "public_key");
  EXPECT_EQ(wrong.error().code, "wrong_key_type");
  EXPECT_EQ(wrong.error().field, "public_key");
  EXPECT_EQ(parse_recipient_public_key("QUJD", "public_key").error().code, "bad_key_length");
  EXPECT_EQ(parse_recipient_public_key("@@@@", "public_key").error().code, "bad_base64");
}

TEST(Keyset, RoundTripsAndKeepsTheCurrentKey) {
  const auto a = SigningKey::generate();
  const auto b = SigningKey::generate();
  Keyset ks;
  ks.add(a.public_key(), true);
  ks.add(b.public_key(), false);
  EXPECT_EQ(ks.current_kid(), a.kid());
  auto back = Keyset::from_json(ks.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->current_kid(), a.kid());
  EXPECT_NE(back->find(b.kid()), nullptr);
  EXPECT_EQ(back->to_json(), ks.to_json());
  EXPECT_EQ(ks.set_current("0000000000000000").error().code, "unknown_key_id");
}

TEST(Keyset, RefusesMalformedKeysets) {
  const auto a = SigningKey::generate();
  const std::string pk = base64_encode(a.public_key().bytes);
  struct Case {
    std::string text, code;
  } cases[] = {
      {"not json", "malformed_keyset"},
      {R"({"schema":"other","keys":[],"current":""})", "malformed_keyset"},
      {R"({"schema":"hpan.keyset/1","keys":[],"current":""})", "malformed_keyset"},
      {R"({"schema":"hpan.keyset/1","keys":[{"alg":"rsa","public_key":")" + pk + R"("}],"current":"x"})", "malformed_keyset"},
      {R"({"schema":"hpan.keyset/1","keys":[{"alg":"ed25519","public_key":"AAAA"}],"current":"x"})", "bad_key_length"},
      {R"({"schema":"hpan.keyset/1","keys":[{"alg":"ed25519","public_key":")" + pk + R"(","kid":"0000000000000000"}],"current":"x"})", "malformed_keyset"},
      {R"({"schema":"hpan.keyset/1","keys":[{"alg":"ed25519","public_key":")" + pk + R"("}],"current":"0000000000000000"})", "unknown_key_id"},
  };
  for (const auto& c : cases) {
    auto r = Keyset::from_json(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, c.code) << c.text;
  }
}

}  // namespace
}  // namespace hpan::crypto
