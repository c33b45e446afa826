#include "alerts/checkpoint.h"

#include <algorithm>
#include <charconv>

namespace hpan::alerts {

namespace {
constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // em dash U+2014, space
}

std::string checkpoint_body(const Checkpoint& cp) {
  return cp.origin + "\n" + std::to_string(cp.size) + "\n" + crypto::base64_encode(cp.root) + "\n";
}

std::array<std::uint8_t, 4> note_key_hash(std::string_view key_name, const crypto::SigningPublicKey& pk) {
  std::vector<std::uint8_t> buf(key_name.begin(), key_name.end());
  buf.push_back('\n');
  buf.push_back(0x01);
  buf.insert(buf.end(), pk.bytes.begin(), pk.bytes.end());
  const auto digest = crypto::sha256(buf);
  return {digest[0], digest[1], digest[2], digest[3]};
}

std::string note_verifier_key(std::string_view key_name, const crypto::SigningPublicKey& pk) {
  const auto h = note_key_hash(key_name, pk);
  std::vector<std::uint8_t> key{0x01};
  key.insert(key.end(), pk.bytes.begin(), pk.bytes.end());
  return std::string(key_name) + "+" + crypto::hex_encode(h) + "+" + crypto::base64_encode(key);
}

std::string sign_checkpoint(const Checkpoint& cp, std::string_view key_name,
                            const crypto::SigningKey& key) {
  const std::string body = checkpoint_body(cp);
  const auto sig = key.sign_detached(body);
  const auto h = note_key_hash(key_name, key.public_key());
  std::vector<std::uint8_t> blob(h.begin(), h.end());
  blob.insert(blob.end(), sig.begin(), sig.end());
  return body + "\n" + std::string(kSigPrefix) + std::string(key_name) + " " +
         crypto::base64_encode(blob) + "\n";
}

Result<Checkpoint> verify_checkpoint(std::string_view note, std::string_view key_name,
                                     const crypto::Keyset& keyset) {
  const auto split = note.find("\n\n");
  if (split == std::string_view::npos)
    return make_error("malformed_checkpoint", "no blank line between the body and the signatures");
  const std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);

  // Body: origin, size, root (and possibly extension lines, which we do not write).
  Checkpoint cp;
  std::string_view rest = body;
  auto next_line = [&rest]() {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    return line;
  };
  cp.origin = std::string(next_line());
  const std::string_view size_text = next_line();
  const std::string_view root_text = next_line();
  if (cp.origin.empty() || size_text.empty() || root_text.empty())
    return make_error("malformed_checkpoint", "the body needs origin, size and root lines");
  auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), cp.size);
  if (ec != std::errc() || p != size_text.data() + size_text.size() ||
      (size_text.size() > 1 && size_text[0] == '0'))
    return make_error("malformed_checkpoint", "the size line is not a decimal number");
  auto root = crypto::base64_decode(root_text);
  if (!root || root->size() != cp.root.size())
    return make_error("malformed_checkpoint", "the root line is not a base64 SHA-256 hash");
  std::copy(root->begin(), root->end(), cp.root.begin());

  bool any_known = false;
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    if (nl == std::string_view::npos)
      return make_error("malformed_checkpoint", "a signature line does not end with a newline");
    std::string_view line = sigs.substr(0, nl);
    sigs = sigs.substr(nl + 1);
    if (line.rfind(kSigPrefix, 0) != 0)
      return make_error("malformed_checkpoint", "a signature line does not start with an em dash");
    line.remove_prefix(kSigPrefix.size());
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return make_error("malformed_checkpoint", "bad signature line");
    if (line.substr(0, space) != key_name) continue;
    auto blob = crypto::base64_decode(line.substr(space + 1));
    if (!blob || blob->size() != 4 + crypto::kSignatureSize) continue;
    for (const auto& pk : keyset.keys()) {
      const auto h = note_key_hash(key_name, pk);
      if (!std::equal(h.begin(), h.end(), blob->begin())) continue;
      any_known = true;
      if (crypto::verify_detached(pk, crypto::as_bytes(body),
                                  std::span<const std::uint8_t>(blob->data() + 4, crypto::kSignatureSize)))
        return cp;
    }
  }
  if (any_known)
    return make_error("bad_signature", "the checkpoint's signature does not verify");
  return make_error("unknown_key", "no signature by a key of the issuer's keyset");
}

}  // namespace hpan::alerts
