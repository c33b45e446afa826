// hpan-keygen: makes issuer signing keys, recipient key pairs and keysets.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/key_file.h"

namespace {

using hpan::Status;
using nlohmann::json;
namespace crypto = hpan::crypto;

int fail(const hpan::Error& e, bool as_json) {
  if (as_json) std::cout << json{{"error", {{"code", e.code}, {"message", e.message}}}}.dump() << "\n";
  std::cerr << "hpan-keygen: " << e.message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hpan-keygen: make key files for hpand and its recipients", "hpan-keygen"};
  app.require_subcommand(1);
  bool as_json = false;
  bool force = false;
  std::string out;
  app.add_flag("--json", as_json, "print the result as JSON");
  app.footer("Key files are two lines: a type and base64 (docs/notice-format.md). Secret key files\n"
             "are written 0600 and FILE.pub beside them; existing files are kept unless --force.");

  auto* signing = app.add_subcommand("signing", "An Ed25519 issuer signing key (FILE) and its public key (FILE.pub)");
  signing->add_option("--out", out, "secret key file to write")->required();
  signing->add_flag("--force", force, "replace existing files");
  auto* recipient = app.add_subcommand("recipient", "An X25519 recipient key pair for a body (FILE, FILE.pub)");
  recipient->add_option("--out", out, "secret key file to write")->required();
  recipient->add_flag("--force", force, "replace existing files");
  auto* keyset = app.add_subcommand("keyset", "A keyset (for recipients) from signing public key files");
  std::vector<std::string> adds;
  std::string current;
  keyset->add_option("--add", adds, "signing public key file (repeat)")->required();
  keyset->add_option("--current", current, "kid of the key that signs now (default: the last added)");
  keyset->add_option("--out", out, "keyset file to write")->required();
  keyset->add_flag("--force", force, "replace an existing file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  crypto::ensure_initialized();
  const crypto::WriteOptions opts{force};

  if (signing->parsed()) {
    const auto key = crypto::SigningKey::generate();
    if (!force) {
      // Refuse before writing either file, so a half-written pair never happens.
      for (const auto& p : {out, out + ".pub"})
        if (std::filesystem::exists(p))
          return fail(hpan::make_error("exists", p + " exists; use --force to replace it"), as_json);
    }
    if (auto st = crypto::write_signing_key_file(out, key, opts); !st) return fail(st.error(), as_json);
    if (auto st = crypto::write_signing_public_key_file(out + ".pub", key.public_key(), opts); !st)
      return fail(st.error(), as_json);
    if (as_json) std::cout << json{{"kid", key.kid()}, {"secret", out}, {"public", out + ".pub"}}.dump() << "\n";
    else std::cout << "signing key " << key.kid() << ": " << out << " (secret, 0600), " << out << ".pub\n";
    return 0;
  }
  if (recipient->parsed()) {
    const auto pair = crypto::RecipientKeyPair::generate();
    if (!force) {
      for (const auto& p : {out, out + ".pub"})
        if (std::filesystem::exists(p))
          return fail(hpan::make_error("exists", p + " exists; use --force to replace it"), as_json);
    }
    if (auto st = crypto::write_recipient_key_file(out, pair, opts); !st) return fail(st.error(), as_json);
    if (auto st = crypto::write_recipient_public_key_file(out + ".pub", pair.public_key(), opts); !st)
      return fail(st.error(), as_json);
    const auto fp = pair.public_key().fingerprint();
    if (as_json) std::cout << json{{"fingerprint", fp}, {"secret", out}, {"public", out + ".pub"}}.dump() << "\n";
    else std::cout << "recipient key " << fp << ": " << out << " (secret, 0600), " << out << ".pub\n";
    return 0;
  }
  crypto::Keyset ks;
  for (const auto& path : adds) {
    auto pk = crypto::read_signing_public_key_file(path);
    if (!pk) return fail(pk.error(), as_json);
    ks.add(*pk, true);
  }
  if (!current.empty())
    if (auto st = ks.set_current(current); !st) return fail(st.error(), as_json);
  if (auto st = crypto::write_keyset_file(out, ks, opts); !st) return fail(st.error(), as_json);
  if (as_json) std::cout << ks.to_json() << "\n";
  else std::cout << "keyset " << out << ": " << ks.keys().size() << " key(s), current " << ks.current_kid() << "\n";
  return 0;
}
