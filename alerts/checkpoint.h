#pragma once
// C2SP tlog-checkpoint notes signed as C2SP signed-notes with Ed25519:
//   body      = "<origin>\n<size>\n<base64 root>\n"
//   note      = body + "\n" + "— <key name> <base64(key hash[4] || signature[64])>\n"
//   key hash  = SHA-256(key name || "\n" || 0x01 || public key)[0:4]
//   signature = Ed25519 over the body bytes.

#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/merkle.h"
#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::alerts {

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  merkle::Hash root{};
};

std::string checkpoint_body(const Checkpoint& cp);
std::string sign_checkpoint(const Checkpoint& cp, std::string_view key_name,
                            const crypto::SigningKey& key);
// The 4-byte key hash of a signed-note Ed25519 key.
std::array<std::uint8_t, 4> note_key_hash(std::string_view key_name, const crypto::SigningPublicKey& pk);
// The verifier key "<name>+<hex key hash>+<base64(0x01 || public key)>".
std::string note_verifier_key(std::string_view key_name, const crypto::SigningPublicKey& pk);

// Parses a signed checkpoint and checks that at least one signature line, under
// `key_name`, verifies with a key of `keyset`. Error codes "malformed_checkpoint",
// "unknown_key" (no signature by a known key), "bad_signature".
Result<Checkpoint> verify_checkpoint(std::string_view note, std::string_view key_name,
                                     const crypto::Keyset& keyset);

}  // namespace hpan::alerts
