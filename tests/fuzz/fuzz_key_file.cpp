// Key files: any content of a key file or keyset is read or refused with an error,
// never a crash. The bytes go to a 0600 file on tmpfs and through every reader.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/key_file.h"
#include "crypto/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/dev/shm/hpan-fuzz-key-" + std::to_string(::getpid());
  static const bool init = (hpan::crypto::ensure_initialized(), true);
  (void)init;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hpan::crypto::parse_recipient_public_key(text, "public_key");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  (void)hpan::crypto::read_signing_key_file(path);
  (void)hpan::crypto::read_signing_public_key_file(path);
  (void)hpan::crypto::read_recipient_key_file(path);
  (void)hpan::crypto::read_recipient_public_key_file(path);
  (void)hpan::crypto::read_keyset_file(path);
  return 0;
}
