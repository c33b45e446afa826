#pragma once
// Issuer signing keys (Ed25519) and recipient key pairs (X25519), DESIGN §3.
//   key id (kid) = lower-case hex of the first 8 bytes of BLAKE2b-256(public key)
//   fingerprint of a recipient public key: the same construction over its X25519 key.
// Secret keys live only in SecureBuffer memory.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/encoding.h"
#include "crypto/secure_buffer.h"

namespace hpan::crypto {

inline constexpr std::size_t kSigningSeedSize = 32;
inline constexpr std::size_t kSigningPublicKeySize = 32;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kRecipientSecretKeySize = 32;
inline constexpr std::size_t kRecipientPublicKeySize = 32;
inline constexpr std::size_t kSealOverhead = 48;  // crypto_box_SEALBYTES

using Signature = std::array<std::uint8_t, kSignatureSize>;

// Lower-case hex of the first 8 bytes of BLAKE2b-256(public_key).
std::string key_id(std::span<const std::uint8_t> public_key);

struct SigningPublicKey {
  std::array<std::uint8_t, kSigningPublicKeySize> bytes{};
  std::string kid() const { return key_id(bytes); }
  bool operator==(const SigningPublicKey&) const = default;
};

// True when `sig` is a valid Ed25519 signature of `message` by `key`.
bool verify_detached(const SigningPublicKey& key, std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> sig);

// An Ed25519 secret key (libsodium's 64-byte form: seed || public key) in guarded memory.
class SigningKey {
 public:
  static SigningKey generate();
  // From a 32-byte seed. Error code "bad_key_length" on any other length.
  static Result<SigningKey> from_seed(std::span<const std::uint8_t> seed);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;

  const SigningPublicKey& public_key() const noexcept { return public_; }
  const std::string& kid() const noexcept { return kid_; }
  Signature sign_detached(std::span<const std::uint8_t> message) const;
  Signature sign_detached(std::string_view message) const { return sign_detached(as_bytes(message)); }
  // The 32-byte seed, for writing a key file. Copies into guarded memory.
  SecureBuffer seed() const;

 private:
  SigningKey(SecureBuffer secret, SigningPublicKey pk);
  SecureBuffer secret_;  // 64 bytes
  SigningPublicKey public_;
  std::string kid_;
};

struct RecipientPublicKey {
  std::array<std::uint8_t, kRecipientPublicKeySize> bytes{};
  std::string fingerprint() const { return key_id(bytes); }
  bool operator==(const RecipientPublicKey&) const = default;
};

// Encrypts `message` to `recipient` with crypto_box_seal (anonymous sender).
Bytes seal(std::span<const std::uint8_t> message, const RecipientPublicKey& recipient);

// An X25519 key pair for a recipient body; the secret half in guarded memory.
class RecipientKeyPair {
 public:
  static RecipientKeyPair generate();
  // From the 32-byte secret key; the public key is derived (crypto_scalarmult_base).
  static Result<RecipientKeyPair> from_secret(std::span<const std::uint8_t> secret);

  RecipientKeyPair(RecipientKeyPair&&) noexcept = default;
  RecipientKeyPair& operator=(RecipientKeyPair&&) noexcept = default;

  const RecipientPublicKey& public_key() const noexcept { return public_; }
  const SecureBuffer& secret() const noexcept { return secret_; }
  // crypto_box_seal_open. Error code "wrong_recipient_key" when it does not open
  // (wrong key, or the bytes were altered); "unreadable" when too short to be sealed.
  Result<Bytes> open(std::span<const std::uint8_t> sealed) const;

 private:
  RecipientKeyPair(SecureBuffer secret, RecipientPublicKey pk);
  SecureBuffer secret_;
  RecipientPublicKey public_;
};

// The issuer's public keys: several may verify (rotation), exactly one is current
// (the one that signs). Serialised as canonical JSON, see docs/notice-format.md:
//   {"current":"<kid>","keys":[{"alg":"ed25519","kid":"…","public_key":"<base64>"}],
//    "schema":"hpan.keyset/1"}
class Keyset {
 public:
  // Adds a key (replacing one with the same kid). When `current`, it becomes current.
  void add(const SigningPublicKey& key, bool current);
  // Error code "unknown_key_id" when no key has that kid.
  Status set_current(std::string_view kid);
  const SigningPublicKey* find(std::string_view kid) const;
  const std::string& current_kid() const noexcept { return current_; }
  const std::vector<SigningPublicKey>& keys() const noexcept { return keys_; }
  bool empty() const noexcept { return keys_.empty(); }

  std::string to_json() const;  // canonical JSON text, no trailing newline
  // Error codes "malformed_keyset" (with the field), "bad_base64", "bad_key_length".
  static Result<Keyset> from_json(std::string_view text);

 private:
  std::vector<SigningPublicKey> keys_;
  std::string current_;
};

}  // namespace hpan::crypto
