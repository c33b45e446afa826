#include "crypto/encoding.h"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace hpan::crypto {

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  });
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return {};
  const std::size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

std::string base64_encode(std::string_view bytes) { return base64_encode(as_bytes(bytes)); }

Result<Bytes> base64_decode(std::string_view text) {
  if (text.empty()) return Bytes{};  // (and libsodium must not see a null output pointer)
  if (text.size() % 4 != 0)
    return make_error("bad_base64", "base64 length is not a multiple of 4 (padding required)");
  Bytes out(text.size() / 4 * 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size())
    return make_error("bad_base64", "not valid base64 (RFC 4648 standard alphabet, padded)");
  out.resize(len);
  return out;
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return {};
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

Result<Bytes> hex_decode(std::string_view text) {
  if (text.empty()) return Bytes{};
  if (text.size() % 2 != 0) return make_error("bad_hex", "hex text has an odd length");
  Bytes out(text.size() / 2);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) != 0 ||
      end != text.data() + text.size())
    return make_error("bad_hex", "not valid hex");
  out.resize(len);
  return out;
}

Bytes random_bytes(std::size_t n) {
  ensure_initialized();
  Bytes out(n);
  randombytes_buf(out.data(), n);
  return out;
}

// libsodium's inputs are declared non-null even when empty: point empty spans here.
namespace {
const std::uint8_t kEmpty[1] = {0};
const std::uint8_t* data_or_empty(std::span<const std::uint8_t> b) { return b.empty() ? kEmpty : b.data(); }
}  // namespace

Sha256Digest sha256(std::span<const std::uint8_t> bytes) {
  Sha256Digest d{};
  crypto_hash_sha256(d.data(), data_or_empty(bytes), bytes.size());
  return d;
}

Sha256Digest sha256(std::string_view bytes) { return sha256(as_bytes(bytes)); }

std::array<std::uint8_t, 32> blake2b256(std::span<const std::uint8_t> bytes) {
  std::array<std::uint8_t, 32> d{};
  crypto_generichash(d.data(), d.size(), data_or_empty(bytes), bytes.size(), nullptr, 0);
  return d;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view message) {
  Sha256Digest mac{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, data_or_empty(key), key.size());
  crypto_auth_hmacsha256_update(&st, data_or_empty(as_bytes(message)), message.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  sodium_memzero(&st, sizeof st);
  return mac;
}

}  // namespace hpan::crypto
