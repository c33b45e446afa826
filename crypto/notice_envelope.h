#pragma once
// The signed envelope and the sealed notice, DESIGN §3 and docs/notice-format.md.
//
//   payload   = canonical JSON (sorted keys, no insignificant whitespace, UTF-8,
//               integers only) with "schema":"hpan.notice/1" and "body_id"
//   signature = Ed25519 detached over "hpan-notice/1\n" || payload
//   envelope  = canonical JSON {"kid":…,"payload":base64(payload),"sig":base64(sig)}
//   sealed    = base64(crypto_box_seal(envelope, body X25519 public key))

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::crypto {

inline constexpr std::string_view kNoticeSchema = "hpan.notice/1";
inline constexpr std::string_view kNoticeSignaturePrefix = "hpan-notice/1\n";

// Canonical JSON text of `value`. Error code "not_canonicalisable" when the value
// holds a floating-point number, or a string that is not valid UTF-8 (field names it).
Result<std::string> canonical_json(const nlohmann::json& value);

// Signs a canonical payload and returns the envelope's canonical JSON text.
std::string make_signed_envelope(const SigningKey& key, std::string_view payload);

// make_signed_envelope + seal + base64: what travels to one recipient body.
std::string seal_notice(const SigningKey& key, std::string_view payload,
                        const RecipientPublicKey& recipient);

struct OpenedNotice {
  std::string kid;
  std::string payload;  // the canonical JSON text that was signed
  std::string body_id;  // payload's body_id
};

// Opens and verifies a sealed notice. Never returns a payload whose signature did
// not verify. Checks, in this order, with these error codes:
//   "unreadable"          not base64, or too short to be a sealed box
//   "wrong_recipient_key" the box does not open with this key
//   "malformed_envelope"  not the envelope JSON (kid, payload, sig; base64 fields)
//   "unknown_key_id"      kid not in the keyset
//   "bad_signature"       the signature does not verify
//   "malformed_payload"   payload not JSON, schema not hpan.notice/1, body_id missing,
//                         or body_id differs from `expected_body_id` when given
Result<OpenedNotice> open_notice(std::string_view sealed_base64, const RecipientKeyPair& key,
                                 const Keyset& keyset,
                                 std::optional<std::string_view> expected_body_id = std::nullopt);

// The same checks for an envelope that was not sealed (e.g. read back from the store).
Result<OpenedNotice> verify_envelope(std::string_view envelope_json, const Keyset& keyset,
                                     std::optional<std::string_view> expected_body_id = std::nullopt);

}  // namespace hpan::crypto
