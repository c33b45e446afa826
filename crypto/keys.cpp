#include "crypto/keys.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/notice_envelope.h"

namespace hpan::crypto {

namespace {
// libsodium declares message pointers non-null even for empty messages.
const std::uint8_t kNothing[1] = {0};
const std::uint8_t* ptr(std::span<const std::uint8_t> b) { return b.empty() ? kNothing : b.data(); }
}  // namespace

std::string key_id(std::span<const std::uint8_t> public_key) {
  const auto digest = blake2b256(public_key);
  return hex_encode(std::span<const std::uint8_t>(digest.data(), 8));
}

bool verify_detached(const SigningPublicKey& key, std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> sig) {
  if (sig.size() != kSignatureSize) return false;
  return crypto_sign_verify_detached(sig.data(), ptr(message), message.size(), key.bytes.data()) == 0;
}

SigningKey::SigningKey(SecureBuffer secret, SigningPublicKey pk)
    : secret_(std::move(secret)), public_(pk), kid_(pk.kid()) {}

SigningKey SigningKey::generate() {
  ensure_initialized();
  SecureBuffer sk(crypto_sign_SECRETKEYBYTES);
  SigningPublicKey pk;
  crypto_sign_keypair(pk.bytes.data(), sk.data());
  return SigningKey(std::move(sk), pk);
}

Result<SigningKey> SigningKey::from_seed(std::span<const std::uint8_t> seed) {
  if (seed.size() != kSigningSeedSize)
    return make_error("bad_key_length", "an Ed25519 seed is 32 bytes, got " + std::to_string(seed.size()));
  ensure_initialized();
  SecureBuffer sk(crypto_sign_SECRETKEYBYTES);
  SigningPublicKey pk;
  crypto_sign_seed_keypair(pk.bytes.data(), sk.data(), seed.data());
  return SigningKey(std::move(sk), pk);
}

Signature SigningKey::sign_detached(std::span<const std::uint8_t> message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, ptr(message), message.size(), secret_.data());
  return sig;
}

SecureBuffer SigningKey::seed() const {
  SecureBuffer out(kSigningSeedSize);
  crypto_sign_ed25519_sk_to_seed(out.data(), secret_.data());
  return out;
}

Bytes seal(std::span<const std::uint8_t> message, const RecipientPublicKey& recipient) {
  ensure_initialized();
  Bytes out(message.size() + crypto_box_SEALBYTES);
  crypto_box_seal(out.data(), ptr(message), message.size(), recipient.bytes.data());
  return out;
}

RecipientKeyPair::RecipientKeyPair(SecureBuffer secret, RecipientPublicKey pk)
    : secret_(std::move(secret)), public_(pk) {}

RecipientKeyPair RecipientKeyPair::generate() {
  ensure_initialized();
  SecureBuffer sk(crypto_box_SECRETKEYBYTES);
  RecipientPublicKey pk;
  crypto_box_keypair(pk.bytes.data(), sk.data());
  return RecipientKeyPair(std::move(sk), pk);
}

Result<RecipientKeyPair> RecipientKeyPair::from_secret(std::span<const std::uint8_t> secret) {
  if (secret.size() != kRecipientSecretKeySize)
    return make_error("bad_key_length",
                      "an X25519 secret key is 32 bytes, got " + std::to_string(secret.size()));
  ensure_initialized();
  SecureBuffer sk(crypto_box_SECRETKEYBYTES);
  std::copy(secret.begin(), secret.end(), sk.data());
  RecipientPublicKey pk;
  crypto_scalarmult_base(pk.bytes.data(), sk.data());
  return RecipientKeyPair(std::move(sk), pk);
}

Result<Bytes> RecipientKeyPair::open(std::span<const std::uint8_t> sealed) const {
  if (sealed.size() < crypto_box_SEALBYTES)
    return make_error("unreadable", "too short to be a sealed box");
  Bytes out(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), public_.bytes.data(),
                           secret_.data()) != 0)
    return make_error("wrong_recipient_key",
                      "the sealed box does not open with this key (wrong key, or altered in transit)");
  return out;
}

void Keyset::add(const SigningPublicKey& key, bool current) {
  const std::string kid = key.kid();
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const auto& k) { return k.kid() == kid; });
  if (it == keys_.end()) keys_.push_back(key);
  if (current || current_.empty()) current_ = kid;
}

Status Keyset::set_current(std::string_view kid) {
  if (find(kid) == nullptr)
    return make_error("unknown_key_id", "no key " + std::string(kid) + " in the keyset", "current");
  current_ = std::string(kid);
  return {};
}

const SigningPublicKey* Keyset::find(std::string_view kid) const {
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const auto& k) { return k.kid() == kid; });
  return it == keys_.end() ? nullptr : &*it;
}

std::string Keyset::to_json() const {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : keys_)
    keys.push_back({{"alg", "ed25519"}, {"kid", k.kid()}, {"public_key", base64_encode(k.bytes)}});
  nlohmann::json j = {{"schema", "hpan.keyset/1"}, {"current", current_}, {"keys", keys}};
  return j.dump();  // keys sorted, compact: canonical
}

Result<Keyset> Keyset::from_json(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return make_error("malformed_keyset", std::string("not JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("schema", "") != "hpan.keyset/1")
    return make_error("malformed_keyset", "expected \"schema\": \"hpan.keyset/1\"", "schema");
  if (!j.contains("keys") || !j["keys"].is_array() || j["keys"].empty())
    return make_error("malformed_keyset", "expected a non-empty list of keys", "keys");
  Keyset ks;
  for (std::size_t i = 0; i < j["keys"].size(); ++i) {
    const auto& k = j["keys"][i];
    const std::string field = "keys[" + std::to_string(i) + "]";
    if (!k.is_object() || k.value("alg", "") != "ed25519" || !k.contains("public_key") ||
        !k["public_key"].is_string())
      return make_error("malformed_keyset", "expected {alg: ed25519, kid, public_key}", field);
    auto bytes = base64_decode(k["public_key"].get<std::string>());
    if (!bytes) return make_error("bad_base64", bytes.error().message, field + ".public_key");
    if (bytes->size() != kSigningPublicKeySize)
      return make_error("bad_key_length", "an Ed25519 public key is 32 bytes", field + ".public_key");
    SigningPublicKey pk;
    std::copy(bytes->begin(), bytes->end(), pk.bytes.begin());
    if (k.contains("kid") && k["kid"] != pk.kid())
      return make_error("malformed_keyset", "kid does not match the public key", field + ".kid");
    ks.keys_.push_back(pk);
  }
  if (!j.contains("current") || !j["current"].is_string())
    return make_error("malformed_keyset", "expected the current key id", "current");
  HPAN_TRY(ks.set_current(j["current"].get<std::string>()));
  return ks;
}

}  // namespace hpan::crypto
