#pragma once
// Byte helpers: RFC 4648 base64 (standard alphabet, with padding), hex, and the
// hashes the project needs (SHA-256, BLAKE2b-256, HMAC-SHA256). Backed by libsodium.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace hpan::crypto {

using Bytes = std::vector<std::uint8_t>;
using Sha256Digest = std::array<std::uint8_t, 32>;

// Calls sodium_init() once; safe to call from any thread, any number of times.
// Throws std::runtime_error if libsodium cannot initialise (startup-fatal).
void ensure_initialized();

std::string base64_encode(std::span<const std::uint8_t> bytes);
std::string base64_encode(std::string_view bytes);
// Strict: standard alphabet, padding required, no whitespace. Error code "bad_base64".
Result<Bytes> base64_decode(std::string_view text);

std::string hex_encode(std::span<const std::uint8_t> bytes);  // lower case
Result<Bytes> hex_decode(std::string_view text);              // error code "bad_hex"

// `n` bytes from the system's CSPRNG (randombytes_buf).
Bytes random_bytes(std::size_t n);

Sha256Digest sha256(std::span<const std::uint8_t> bytes);
Sha256Digest sha256(std::string_view bytes);
std::array<std::uint8_t, 32> blake2b256(std::span<const std::uint8_t> bytes);
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view message);

// View helpers.
inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace hpan::crypto
