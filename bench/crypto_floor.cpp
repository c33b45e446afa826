// The machine's crypto floor for a fan-out (DESIGN §10): per recipient, what hpand
// cannot avoid — the payload made canonical with the body's id, signed (Ed25519) and
// sealed to the body's X25519 key, base64 — on one core, for a realistic payload.
// Prints one JSON line: {"per_second": ..., "payload_bytes": ..., "iterations": ...}.
//   crypto_floor [--seconds S] [--recipients N]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/notice_envelope.h"

int main(int argc, char** argv) {
  double seconds = 3;
  int recipients = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (a == "--recipients") recipients = std::atoi(argv[i + 1]);
    else {
      std::cerr << "usage: crypto_floor [--seconds S] [--recipients N]\n";
      return 2;
    }
  }
  hpan::crypto::ensure_initialized();
  const auto signer = hpan::crypto::SigningKey::generate();
  std::vector<hpan::crypto::RecipientPublicKey> keys;
  for (int i = 0; i < recipients; ++i) keys.push_back(hpan::crypto::RecipientKeyPair::generate().public_key());
  // A payload of the size a real notice has (fictional text).
  nlohmann::json base = {{"schema", "hpan.notice/1"},
                         {"notice_id", "HPAN-2026-000001"},
                         {"version", 1},
                         {"type", "issued"},
                         {"practitioner", {{"full_name", "Dr Bench Example"}, {"regulator", "GMC"},
                                           {"registration_number", "0000000"}, {"date_of_birth", "1970-01-31"}}},
                         {"concern", {{"categories", {"clinical"}}, {"description", std::string(600, 'x')}}},
                         {"issued_at", "2026-11-28T12:00:00Z"}};
  std::size_t payload_bytes = 0;
  long long n = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 100; ++i, ++n) {
      base["body_id"] = "B" + std::to_string(n % recipients);
      const auto payload = hpan::crypto::canonical_json(base);
      if (!payload.ok()) return 1;
      payload_bytes = payload->size();
      const std::string sealed = hpan::crypto::seal_notice(signer, *payload, keys[static_cast<std::size_t>(n % recipients)]);
      if (sealed.empty()) return 1;
    }
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << nlohmann::json{{"per_second", static_cast<double>(n) / took}, {"payload_bytes", payload_bytes},
                              {"iterations", n}, {"seconds", took}}
                   .dump()
            << "\n";
  return 0;
}
