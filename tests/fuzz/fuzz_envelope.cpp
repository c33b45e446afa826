// hpan-verify's parsers: a signed envelope (JSON) and a sealed notice (base64) of any
// bytes are refused with one of the documented codes, never accepted unless signed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/notice_envelope.h"

namespace {
struct Keys {
  Keys() {
    hpan::crypto::ensure_initialized();
    keyset.add(signer.public_key(), true);
  }
  hpan::crypto::SigningKey signer = hpan::crypto::SigningKey::generate();
  hpan::crypto::RecipientKeyPair recipient = hpan::crypto::RecipientKeyPair::generate();
  hpan::crypto::Keyset keyset;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Keys keys;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Random bytes are never signed by a fresh key: both must refuse.
  if (hpan::crypto::verify_envelope(text, keys.keyset).ok()) std::abort();
  if (hpan::crypto::open_notice(text, keys.recipient, keys.keyset).ok()) std::abort();
  return 0;
}
