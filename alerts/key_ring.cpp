#include "alerts/key_ring.h"

#include <sys/stat.h>

#include "crypto/key_file.h"

namespace hpan::alerts {

namespace fs = std::filesystem;

Result<KeyRing> KeyRing::load(const fs::path& signing_key_file, const fs::path& keys_dir,
                              const fs::path& keyset_file) {
  KeyRing ring;
  ring.keys_dir_ = keys_dir;
  ring.keyset_file_ = keyset_file;

  HPAN_TRY_ASSIGN(configured, crypto::read_signing_key_file(signing_key_file));
  const std::string configured_kid = configured.kid();
  const crypto::SigningPublicKey configured_pk = configured.public_key();
  ring.keys_.emplace(configured_kid, std::move(configured));

  std::error_code ec;
  if (fs::is_directory(keys_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(keys_dir, ec)) {
      if (entry.path().extension() != ".key") continue;
      HPAN_TRY_ASSIGN(k, crypto::read_signing_key_file(entry.path()));
      std::string kid = k.kid();
      ring.keys_.emplace(std::move(kid), std::move(k));
    }
  }

  bool changed = false;
  if (fs::exists(keyset_file, ec)) {
    HPAN_TRY_ASSIGN(ks, crypto::read_keyset_file(keyset_file));
    ring.keyset_ = std::move(ks);
  } else {
    changed = true;
  }
  for (const auto& [kid, key] : ring.keys_) {
    if (ring.keyset_.find(kid) == nullptr) {
      ring.keyset_.add(key.public_key(), false);
      changed = true;
    }
  }
  // The keyset's current key signs when its secret is here; otherwise the configured one.
  if (ring.keys_.find(ring.keyset_.current_kid()) == ring.keys_.end()) {
    ring.keyset_.add(configured_pk, true);
    changed = true;
  }
  if (changed) {
    fs::create_directories(keyset_file.parent_path(), ec);
    HPAN_TRY(crypto::write_keyset_file(keyset_file, ring.keyset_, {.force = true}));
  }
  return ring;
}

Result<std::string> KeyRing::rotate() {
  std::error_code ec;
  fs::create_directories(keys_dir_, ec);
  if (ec) return make_error("io_error", "cannot create " + keys_dir_.string() + ": " + ec.message());
  ::chmod(keys_dir_.c_str(), 0700);
  crypto::SigningKey key = crypto::SigningKey::generate();
  const std::string kid = key.kid();
  HPAN_TRY(crypto::write_signing_key_file(keys_dir_ / ("signing-" + kid + ".key"), key));
  crypto::Keyset next = keyset_;
  next.add(key.public_key(), true);
  HPAN_TRY(crypto::write_keyset_file(keyset_file_, next, {.force = true}));
  keyset_ = std::move(next);
  keys_.emplace(kid, std::move(key));
  return kid;
}

}  // namespace hpan::alerts
