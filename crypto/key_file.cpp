#include "crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hpan::crypto {
namespace {

constexpr std::size_t kMaxKeyFileSize = 4096;

Error io_error(const std::filesystem::path& path, const std::string& what) {
  return make_error("io_error", what + " " + path.string() + ": " + std::strerror(errno), "file");
}

// Reads a whole (small) file without following symlinks; reports its mode.
Result<std::string> read_small_file(const std::filesystem::path& path, mode_t& mode,
                                    std::size_t max_size = kMaxKeyFileSize) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = io_error(path, "cannot stat");
    ::close(fd);
    return e;
  }
  mode = st.st_mode;
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("malformed_key_file", path.string() + " is not a regular file", "file");
  }
  if (st.st_size > static_cast<off_t>(max_size)) {
    ::close(fd);
    return make_error("malformed_key_file",
                      path.string() + " is larger than " + std::to_string(max_size) + " bytes", "file");
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

// Parses "<type>\n<base64>\n" and returns the decoded bytes of the expected length.
Result<Bytes> parse_key_text(std::string_view text, std::string_view type, std::size_t length,
                             const std::string& where) {
  if (text.find('\0') != std::string_view::npos)
    return make_error("malformed_key_file", where + " is not a text key file", "file");
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos)
    return make_error("malformed_key_file", where + ": expected two lines (type, then base64)", "file");
  std::string_view first = text.substr(0, nl);
  std::string_view rest = text.substr(nl + 1);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (first != type)
    return make_error("wrong_key_type",
                      where + ": expected a " + std::string(type) + " file, found \"" +
                          std::string(first.substr(0, 60)) + "\"",
                      "file");
  const auto nl2 = rest.find('\n');
  std::string_view line = rest.substr(0, nl2);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (nl2 != std::string_view::npos &&
      rest.substr(nl2 + 1).find_first_not_of(" \t\r\n") != std::string_view::npos)
    return make_error("malformed_key_file", where + ": unexpected content after the key line", "file");
  if (line.empty()) return make_error("malformed_key_file", where + ": the key line is missing", "file");
  auto bytes = base64_decode(line);
  if (!bytes) return make_error("bad_base64", where + ": the key line is not valid base64", "file");
  if (bytes->size() != length) {
    sodium_memzero(bytes->data(), bytes->size());
    return make_error("bad_key_length",
                      where + ": a " + std::string(type) + " key is " + std::to_string(length) +
                          " bytes, this one is " + std::to_string(bytes->size()),
                      "file");
  }
  return bytes;
}

// True when `path` is a credential systemd passed to this service ($CREDENTIALS_DIRECTORY).
// systemd grants a non-root service read access there through an ACL, whose mask shows
// as group read (0440): that file is the service's alone all the same.
bool systemd_credential(const std::filesystem::path& path) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') return false;
  std::error_code ec1, ec2;
  const auto file = std::filesystem::canonical(path, ec1);
  const auto creds = std::filesystem::canonical(dir, ec2);
  return !ec1 && !ec2 && file.parent_path() == creds;
}

// Reads a key file of `type`; secret files must not be accessible to group or others
// (a systemd credential may show group read, nothing more).
Result<Bytes> read_key(const std::filesystem::path& path, std::string_view type, std::size_t length,
                       bool secret) {
  mode_t mode = 0;
  HPAN_TRY_ASSIGN(text, read_small_file(path, mode));
  const mode_t forbidden = systemd_credential(path) ? 037 : 077;
  if (secret && (mode & forbidden) != 0) {
    sodium_memzero(text.data(), text.size());
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return make_error("insecure_permissions",
                      path.string() + " is readable or writable by group or others (mode " + buf +
                          "); run chmod 600 " + path.string(),
                      "file");
  }
  auto r = parse_key_text(text, type, length, path.string());
  sodium_memzero(text.data(), text.size());
  return r;
}

// Writes `text` atomically to `path` with `mode`: a temporary file created with that
// mode in the same folder, fsync, rename.
Status write_atomic(const std::filesystem::path& path, std::string_view text, mode_t mode,
                    WriteOptions opts) {
  struct stat st {};
  if (!opts.force && ::lstat(path.c_str(), &st) == 0)
    return make_error("exists", path.string() + " exists; use --force to replace it", "file");
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const mode_t old_mask = ::umask(0);
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  ::umask(old_mask);
  if (fd < 0) return io_error(path, "cannot create a file beside");
  if (::fchmod(fd, mode) != 0) {
    Error e = io_error(path, "cannot set the mode of");
    ::close(fd);
    ::unlink(tmpl.c_str());
    return e;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = io_error(path, "cannot write");
      ::close(fd);
      ::unlink(tmpl.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Error e = io_error(path, "cannot flush");
    ::unlink(tmpl.c_str());
    return e;
  }
  if (!opts.force && ::lstat(path.c_str(), &st) == 0) {
    ::unlink(tmpl.c_str());
    return make_error("exists", path.string() + " exists; use --force to replace it", "file");
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    Error e = io_error(path, "cannot rename into");
    ::unlink(tmpl.c_str());
    return e;
  }
  return {};
}

Status write_key(const std::filesystem::path& path, std::string_view type,
                 std::span<const std::uint8_t> bytes, bool secret, WriteOptions opts) {
  std::string text = std::string(type) + "\n" + base64_encode(bytes) + "\n";
  Status st = write_atomic(path, text, secret ? 0600 : 0640, opts);
  sodium_memzero(text.data(), text.size());
  return st;
}

}  // namespace

Result<SigningKey> read_signing_key_file(const std::filesystem::path& path) {
  HPAN_TRY_ASSIGN(seed, read_key(path, kSigningSecretKeyType, kSigningSeedSize, true));
  auto key = SigningKey::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Result<SigningPublicKey> read_signing_public_key_file(const std::filesystem::path& path) {
  HPAN_TRY_ASSIGN(bytes, read_key(path, kSigningPublicKeyType, kSigningPublicKeySize, false));
  SigningPublicKey pk;
  std::copy(bytes.begin(), bytes.end(), pk.bytes.begin());
  return pk;
}

Result<RecipientKeyPair> read_recipient_key_file(const std::filesystem::path& path) {
  HPAN_TRY_ASSIGN(secret, read_key(path, kRecipientSecretKeyType, kRecipientSecretKeySize, true));
  auto pair = RecipientKeyPair::from_secret(secret);
  sodium_memzero(secret.data(), secret.size());
  return pair;
}

Result<RecipientPublicKey> read_recipient_public_key_file(const std::filesystem::path& path) {
  HPAN_TRY_ASSIGN(bytes, read_key(path, kRecipientPublicKeyType, kRecipientPublicKeySize, false));
  RecipientPublicKey pk;
  std::copy(bytes.begin(), bytes.end(), pk.bytes.begin());
  return pk;
}

Result<Keyset> read_keyset_file(const std::filesystem::path& path) {
  mode_t mode = 0;
  HPAN_TRY_ASSIGN(text, read_small_file(path, mode, 1u << 20));  // many keys fit in 1 MiB
  auto ks = Keyset::from_json(text);
  if (!ks) {
    Error e = std::move(ks).error();
    e.message = path.string() + ": " + e.message;
    return e;
  }
  return ks;
}

Status write_signing_key_file(const std::filesystem::path& path, const SigningKey& key,
                              WriteOptions opts) {
  const SecureBuffer seed = key.seed();
  return write_key(path, kSigningSecretKeyType, seed.bytes(), true, opts);
}

Status write_signing_public_key_file(const std::filesystem::path& path, const SigningPublicKey& key,
                                     WriteOptions opts) {
  return write_key(path, kSigningPublicKeyType, key.bytes, false, opts);
}

Status write_recipient_key_file(const std::filesystem::path& path, const RecipientKeyPair& key,
                                WriteOptions opts) {
  return write_key(path, kRecipientSecretKeyType, key.secret().bytes(), true, opts);
}

Status write_recipient_public_key_file(const std::filesystem::path& path,
                                       const RecipientPublicKey& key, WriteOptions opts) {
  return write_key(path, kRecipientPublicKeyType, key.bytes, false, opts);
}

Status write_keyset_file(const std::filesystem::path& path, const Keyset& keyset, WriteOptions opts) {
  return write_atomic(path, keyset.to_json() + "\n", 0640, opts);
}

Result<RecipientPublicKey> parse_recipient_public_key(std::string_view text, std::string_view field) {
  std::string_view t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
  Result<Bytes> bytes = make_error("", "");
  if (t.rfind(kRecipientPublicKeyType, 0) == 0) {
    bytes = parse_key_text(std::string(t) + "\n", kRecipientPublicKeyType, kRecipientPublicKeySize,
                           std::string(field));
  } else if (t.find('\n') != std::string_view::npos) {
    const auto first = t.substr(0, t.find('\n'));
    return make_error("wrong_key_type",
                      "expected a " + std::string(kRecipientPublicKeyType) + " key, found \"" +
                          std::string(first.substr(0, 60)) + "\"",
                      std::string(field));
  } else {
    bytes = base64_decode(t);
    if (bytes && bytes->size() != kRecipientPublicKeySize)
      return make_error("bad_key_length",
                        "an X25519 public key is 32 bytes, this one is " + std::to_string(bytes->size()),
                        std::string(field));
  }
  if (!bytes) {
    Error e = std::move(bytes).error();
    e.field = std::string(field);
    return e;
  }
  RecipientPublicKey pk;
  std::copy(bytes->begin(), bytes->end(), pk.bytes.begin());
  return pk;
}

}  // namespace hpan::crypto
