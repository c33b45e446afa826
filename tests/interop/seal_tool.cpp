// Test-only: seals a payload file for a recipient with a signing key, using hpand's
// own crypto code, so the interop test can check it with PyNaCl.
//   hpan-interop-seal SIGNING_KEY RECIPIENT_PUB PAYLOAD_FILE  → sealed base64 on stdout
#include <fstream>
#include <iostream>
#include <iterator>

#include "crypto/key_file.h"
#include "crypto/notice_envelope.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: hpan-interop-seal SIGNING_KEY RECIPIENT_PUB PAYLOAD_FILE\n";
    return 2;
  }
  hpan::crypto::ensure_initialized();
  auto key = hpan::crypto::read_signing_key_file(argv[1]);
  auto pub = hpan::crypto::read_recipient_public_key_file(argv[2]);
  if (!key || !pub) {
    std::cerr << (key ? pub.error().message : key.error().message) << "\n";
    return 1;
  }
  std::ifstream in(argv[3], std::ios::binary);
  const std::string payload((std::istreambuf_iterator<char>(in)), {});
  std::cout << hpan::crypto::seal_notice(*key, payload, *pub) << "\n";
  return 0;
}
