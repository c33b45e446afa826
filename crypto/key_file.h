#pragma once
// Key files (docs/notice-format.md §Key files): UTF-8 text, two lines:
//   line 1: the type, one of
//     hpan-signing-secret-key/1     32-byte Ed25519 seed
//     hpan-signing-public-key/1     32-byte Ed25519 public key
//     hpan-recipient-secret-key/1   32-byte X25519 secret key
//     hpan-recipient-public-key/1   32-byte X25519 public key
//   line 2: the key bytes in base64 (RFC 4648, standard alphabet, padded)
// followed by one newline. Secret key files are written 0600 and refused when
// readable or writable by group or others. A keyset file holds Keyset::to_json().
//
// Every reader names the file in its error message. Error codes:
//   "io_error"          cannot open/read/write (message includes strerror)
//   "wrong_key_type"    first line is not the expected type (message says both)
//   "bad_base64"        second line is not valid base64
//   "bad_key_length"    decoded length differs from the type's length
//   "malformed_key_file" missing lines, extra content, over 4 KiB, not text
//   "insecure_permissions" secret key file readable/writable by group or others
//   "exists"            writing over an existing file without `force`

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::crypto {

inline constexpr std::string_view kSigningSecretKeyType = "hpan-signing-secret-key/1";
inline constexpr std::string_view kSigningPublicKeyType = "hpan-signing-public-key/1";
inline constexpr std::string_view kRecipientSecretKeyType = "hpan-recipient-secret-key/1";
inline constexpr std::string_view kRecipientPublicKeyType = "hpan-recipient-public-key/1";

struct WriteOptions {
  bool force = false;  // overwrite an existing file
};

Result<SigningKey> read_signing_key_file(const std::filesystem::path& path);
Result<SigningPublicKey> read_signing_public_key_file(const std::filesystem::path& path);
Result<RecipientKeyPair> read_recipient_key_file(const std::filesystem::path& path);
Result<RecipientPublicKey> read_recipient_public_key_file(const std::filesystem::path& path);
Result<Keyset> read_keyset_file(const std::filesystem::path& path);

// Secret key files are created 0600; public key files and keysets 0640.
// The write is atomic (temporary file in the same folder, fsync, rename).
Status write_signing_key_file(const std::filesystem::path& path, const SigningKey& key, WriteOptions opts = {});
Status write_signing_public_key_file(const std::filesystem::path& path, const SigningPublicKey& key, WriteOptions opts = {});
Status write_recipient_key_file(const std::filesystem::path& path, const RecipientKeyPair& key, WriteOptions opts = {});
Status write_recipient_public_key_file(const std::filesystem::path& path, const RecipientPublicKey& key, WriteOptions opts = {});
Status write_keyset_file(const std::filesystem::path& path, const Keyset& keyset, WriteOptions opts = {});

// Parses the text of a public key file (both lines) or a bare base64 key, as
// received over the control socket. `field` names the request field in errors.
Result<RecipientPublicKey> parse_recipient_public_key(std::string_view text, std::string_view field);

}  // namespace hpan::crypto
