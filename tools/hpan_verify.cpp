// hpan-verify: opens a sealed notice with a body's secret key, verifies the issuer's
// signature against the keyset, and prints the notice. It never prints a payload
// whose signature did not verify.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "crypto/key_file.h"
#include "crypto/notice_envelope.h"

namespace {

using nlohmann::json;
namespace crypto = hpan::crypto;

enum Exit : int {
  kValid = 0, kUsage = 2, kUnreadable = 3, kWrongKey = 4, kBadSignature = 5, kUnknownKid = 6,
  kMalformed = 7, kKeyFile = 8
};

int exit_for(const std::string& code) {
  if (code == "unreadable") return kUnreadable;
  if (code == "wrong_recipient_key") return kWrongKey;
  if (code == "bad_signature") return kBadSignature;
  if (code == "unknown_key_id") return kUnknownKid;
  return kMalformed;  // malformed_envelope, malformed_payload
}

int fail(int code, const std::string& error_code, const std::string& message, bool as_json) {
  if (as_json)
    std::cout << json{{"valid", false}, {"error", {{"code", error_code}, {"message", message}}}}.dump() << "\n";
  std::cerr << "hpan-verify: " << message << "\n";
  return code;
}

std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + text(e);
    return out;
  }
  return v.is_null() ? "" : v.dump();
}

// A readable layout of the known fields; anything else is listed after.
void print_notice(const json& p, const std::string& kid) {
  std::cout << "VERIFIED notice, signed by key " << kid << "\n\n";
  std::cout << text(p["notice_id"]) << " version " << text(p["version"]) << " (" << text(p["type"]) << ")";
  if (p.value("urgent", false)) std::cout << "  URGENT: " << text(p["urgent_reason"]);
  std::cout << "\naddressed to body " << text(p["body_id"]) << ", signed at " << text(p["signed_at"]) << "\n";
  if (p.contains("supersedes") && !p["supersedes"].empty()) std::cout << "supersedes versions " << text(p["supersedes"]) << "\n";
  if (p.value("type", "") == "revoked")
    std::cout << "\nTHIS NOTICE IS REVOKED: " << text(p["revocation_reason"]) << "\n";
  if (p.contains("practitioner")) {
    const auto& pr = p["practitioner"];
    std::cout << "\nPractitioner   " << text(pr["full_name"]) << "\n";
    if (pr.contains("other_names") && !pr["other_names"].empty()) std::cout << "  other names  " << text(pr["other_names"]) << "\n";
    std::cout << "  profession   " << text(pr["profession"]) << "\n"
              << "  registration " << text(pr["regulator"]) << " " << text(pr["registration_number"]) << "\n"
              << "  born         " << text(pr["date_of_birth"]) << "\n";
    if (pr.contains("addresses")) for (const auto& a : pr["addresses"]) std::cout << "  address      " << text(a) << "\n";
  }
  if (p.contains("concern"))
    std::cout << "\nConcern        " << text(p["concern"]["categories"]) << "\n  " << text(p["concern"]["description"]) << "\n";
  if (p.contains("requesting_body"))
    std::cout << "\nRequested by   " << text(p["requesting_body"]["name"]) << " (" << text(p["requesting_body"]["id"]) << ")\n";
  if (p.contains("contact"))
    std::cout << "Contact        " << text(p["contact"]["name"]) << " " << text(p["contact"]["email"]) << " "
              << text(p["contact"]["phone"]) << "\n";
  if (p.contains("dates")) {
    std::cout << "\n";
    for (const auto& [k, v] : p["dates"].items())
      if (!text(v).empty()) std::cout << "  " << k << ": " << text(v) << "\n";
  }
  static const std::vector<std::string> known = {
      "schema", "type", "notice_id", "version", "supersedes", "body_id", "signed_at", "urgent", "urgent_reason",
      "practitioner", "concern", "requesting_body", "requester", "contact", "dates", "revocation_reason"};
  for (const auto& [k, v] : p.items())
    if (std::find(known.begin(), known.end(), k) == known.end()) std::cout << k << ": " << v.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hpan-verify: open and verify a sealed HPAN notice", "hpan-verify"};
  std::string key_path, keyset_path, notice_path, body_id;
  bool as_json = false;
  app.add_option("--key", key_path, "the body's recipient secret key file")->required();
  app.add_option("--keyset", keyset_path, "the issuer's public keyset file (hpanctl keys export)")->required();
  app.add_option("--body-id", body_id, "refuse a notice addressed to another body");
  app.add_flag("--json", as_json, "print {\"valid\", \"kid\", \"payload\"} as JSON");
  app.add_option("notice", notice_path, "sealed notice (base64), a webhook JSON body, or - for stdin")->required();
  app.footer("Exit codes: 0 valid, 2 usage, 3 unreadable input, 4 wrong recipient key, 5 bad signature,\n"
             "6 unknown key id, 7 malformed envelope or payload, 8 key or keyset file error.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kUsage;
  }
  crypto::ensure_initialized();
  auto key = crypto::read_recipient_key_file(key_path);
  if (!key) return fail(kKeyFile, key.error().code, key.error().message, as_json);
  auto keyset = crypto::read_keyset_file(keyset_path);
  if (!keyset) return fail(kKeyFile, keyset.error().code, keyset.error().message, as_json);

  std::string input;
  if (notice_path == "-") {
    input.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(notice_path, std::ios::binary);
    if (!in) return fail(kUnreadable, "unreadable", "cannot read " + notice_path, as_json);
    input.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (input.size() > (16u << 20)) return fail(kUnreadable, "unreadable", "input larger than 16 MiB", as_json);
  while (!input.empty() && std::isspace(static_cast<unsigned char>(input.back()))) input.pop_back();
  std::optional<std::string> expected;
  if (!body_id.empty()) expected = body_id;
  std::string sealed = input;
  if (!input.empty() && input.front() == '{') {  // a webhook body
    const json hook = json::parse(input, nullptr, false);
    if (hook.is_discarded() || !hook.is_object() || !hook.contains("sealed") || !hook["sealed"].is_string())
      return fail(kUnreadable, "unreadable", "the JSON input has no \"sealed\" field", as_json);
    sealed = hook["sealed"].get<std::string>();
    if (hook.contains("body_id") && hook["body_id"].is_string()) {
      if (expected && *expected != hook["body_id"].get<std::string>())
        return fail(kMalformed, "malformed_payload", "the webhook is addressed to another body", as_json);
      expected = hook["body_id"].get<std::string>();
    }
  }
  // An email attachment wraps the base64 in lines: whitespace inside is not part of it.
  sealed.erase(std::remove_if(sealed.begin(), sealed.end(),
                              [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }),
               sealed.end());
  std::optional<std::string_view> expected_view;
  if (expected) expected_view = *expected;
  auto opened = crypto::open_notice(sealed, *key, *keyset, expected_view);
  if (!opened) return fail(exit_for(opened.error().code), opened.error().code, opened.error().message, as_json);
  const json payload = json::parse(opened->payload);
  if (as_json) {
    std::cout << json{{"valid", true}, {"kid", opened->kid}, {"payload", payload}}.dump() << "\n";
  } else {
    print_notice(payload, opened->kid);
  }
  return kValid;
}
