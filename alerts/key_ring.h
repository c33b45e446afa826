#pragma once
// The issuer's signing keys: the configured key (under systemd, a LoadCredential=
// file), keys made by `hpanctl keys rotate` (0600 files in <state_dir>/keys/), and the
// public keyset (<state_dir>/keyset.json, or keys.keyset) that recipients verify with.
// Exactly one key signs (the keyset's current); the others still verify.

#include <filesystem>
#include <map>
#include <string>

#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::alerts {

class KeyRing {
 public:
  // Loads the configured signing key (required), every rotated key in `keys_dir`,
  // and the keyset (created, or extended with any loaded key it lacks, and written).
  static Result<KeyRing> load(const std::filesystem::path& signing_key_file,
                              const std::filesystem::path& keys_dir,
                              const std::filesystem::path& keyset_file);

  const crypto::SigningKey& current() const { return keys_.at(keyset_.current_kid()); }
  const crypto::Keyset& keyset() const noexcept { return keyset_; }
  const std::filesystem::path& keyset_file() const noexcept { return keyset_file_; }

  // Makes a new signing key (written 0600 into keys_dir), adds it to the keyset as
  // current and writes the keyset. Returns the new kid.
  Result<std::string> rotate();

 private:
  std::map<std::string, crypto::SigningKey, std::less<>> keys_;
  crypto::Keyset keyset_;
  std::filesystem::path keys_dir_;
  std::filesystem::path keyset_file_;
};

}  // namespace hpan::alerts
