#include "crypto/notice_envelope.h"

#include <nlohmann/json.hpp>

namespace hpan::crypto {

using nlohmann::json;

namespace {

// Finds the first floating-point number or invalid UTF-8 string, with its path.
Status check_canonicalisable(const json& v, const std::string& path) {
  if (v.is_number_float())
    return make_error("not_canonicalisable", "floating-point numbers are not allowed", path);
  if (v.is_object()) {
    for (const auto& [k, child] : v.items())
      HPAN_TRY(check_canonicalisable(child, path.empty() ? k : path + "." + k));
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i)
      HPAN_TRY(check_canonicalisable(v[i], path + "[" + std::to_string(i) + "]"));
  }
  return {};
}

Bytes signed_message(std::string_view payload) {
  // Built with one copy of a joined string (GCC 12's -Warray-bounds misfires on
  // vector::insert after a short range construction).
  const std::string joined = std::string(kNoticeSignaturePrefix) + std::string(payload);
  return Bytes(joined.begin(), joined.end());
}

}  // namespace

Result<std::string> canonical_json(const json& value) {
  HPAN_TRY(check_canonicalisable(value, ""));
  try {
    // nlohmann's objects are std::map: keys sorted by byte order; dump() is compact and
    // escapes only '"', '\\' and control characters; invalid UTF-8 throws.
    return value.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::type_error& e) {
    return make_error("not_canonicalisable", std::string("invalid UTF-8: ") + e.what());
  }
}

std::string make_signed_envelope(const SigningKey& key, std::string_view payload) {
  const Signature sig = key.sign_detached(signed_message(payload));
  const json envelope = {{"kid", key.kid()},
                         {"payload", base64_encode(payload)},
                         {"sig", base64_encode(sig)}};
  return envelope.dump();
}

std::string seal_notice(const SigningKey& key, std::string_view payload,
                        const RecipientPublicKey& recipient) {
  const std::string envelope = make_signed_envelope(key, payload);
  return base64_encode(seal(as_bytes(envelope), recipient));
}

Result<OpenedNotice> verify_envelope(std::string_view envelope_json, const Keyset& keyset,
                                     std::optional<std::string_view> expected_body_id) {
  json env;
  try {
    env = json::parse(envelope_json);
  } catch (const json::exception&) {
    return make_error("malformed_envelope", "the envelope is not JSON");
  }
  if (!env.is_object()) return make_error("malformed_envelope", "the envelope is not a JSON object");
  for (const char* k : {"kid", "payload", "sig"}) {
    if (!env.contains(k) || !env[k].is_string())
      return make_error("malformed_envelope", std::string("the envelope has no ") + k, k);
  }
  if (env.size() != 3) return make_error("malformed_envelope", "the envelope has unexpected fields");
  auto payload = base64_decode(env["payload"].get<std::string>());
  if (!payload) return make_error("malformed_envelope", "payload is not base64", "payload");
  auto sig = base64_decode(env["sig"].get<std::string>());
  if (!sig || sig->size() != kSignatureSize)
    return make_error("malformed_envelope", "sig is not a base64 Ed25519 signature", "sig");
  const std::string kid = env["kid"].get<std::string>();
  const SigningPublicKey* pk = keyset.find(kid);
  if (pk == nullptr)
    return make_error("unknown_key_id", "the notice was signed by key " + kid.substr(0, 32) +
                                            ", which is not in the issuer's keyset",
                      "kid");
  const std::string_view payload_text = as_chars(*payload);
  if (!verify_detached(*pk, signed_message(payload_text), *sig))
    return make_error("bad_signature", "the signature does not verify: the notice is not authentic");

  json p;
  try {
    p = json::parse(payload_text);
  } catch (const json::exception&) {
    return make_error("malformed_payload", "the signed payload is not JSON");
  }
  if (!p.is_object() || p.value("schema", "") != kNoticeSchema)
    return make_error("malformed_payload", "the payload's schema is not hpan.notice/1", "schema");
  if (!p.contains("body_id") || !p["body_id"].is_string() || p["body_id"].get<std::string>().empty())
    return make_error("malformed_payload", "the payload names no recipient body", "body_id");
  const std::string body_id = p["body_id"].get<std::string>();
  if (expected_body_id && body_id != *expected_body_id)
    return make_error("malformed_payload",
                      "the notice is addressed to body " + body_id + ", not " + std::string(*expected_body_id),
                      "body_id");
  return OpenedNotice{kid, std::string(payload_text), body_id};
}

Result<OpenedNotice> open_notice(std::string_view sealed_base64, const RecipientKeyPair& key,
                                 const Keyset& keyset,
                                 std::optional<std::string_view> expected_body_id) {
  auto sealed = base64_decode(sealed_base64);
  if (!sealed) return make_error("unreadable", "the notice is not base64");
  HPAN_TRY_ASSIGN(envelope, key.open(*sealed));
  return verify_envelope(as_chars(envelope), keyset, expected_body_id);
}

}  // namespace hpan::crypto
