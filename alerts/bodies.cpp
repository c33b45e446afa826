#include "alerts/bodies.h"

#include <algorithm>
#include <cctype>

#include "alerts/params.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"

namespace hpan::alerts {
namespace {

using nlohmann::json;

constexpr const char* kBodyColumns =
    "id, name, kind, region, regulator, webhook_url, webhook_secret != '', emails, public_key,"
    " fingerprint, receives, state, added_at, updated_at";

Body read_body(const sql::Statement& s) {
  Body b;
  b.id = s.column_text(0);
  b.name = s.column_text(1);
  b.kind = s.column_text(2);
  b.region = s.column_text(3);
  b.regulator = s.column_text(4);
  b.webhook_url = s.column_text(5);
  b.has_webhook_secret = s.column_int(6) != 0;
  b.emails = json::parse(s.column_text(7)).get<std::vector<std::string>>();
  b.public_key = s.column_text(8);
  b.fingerprint = s.column_text(9);
  b.receives = s.column_text(10);
  b.state = s.column_text(11);
  b.added_at = s.column_int(12);
  b.updated_at = s.column_int(13);
  return b;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  if (host.rfind("127.", 0) == 0) {
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
  }
  return false;
}

std::string field_text(const json& params, const char* key, std::size_t max, bool required,
                       Error& err) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) {
    if (required && err.code.empty()) err = make_error("missing_field", "is required", key);
    return {};
  }
  if (!it->is_string()) {
    if (err.code.empty()) err = make_error("invalid_field", "expected a string", key);
    return {};
  }
  std::string s = it->get<std::string>();
  const auto problem = text_problem(s, false);
  if (err.code.empty()) {
    if (!problem.empty()) err = make_error("invalid_field", std::string(problem), key);
    else if (s.size() > max)
      err = make_error("invalid_field", "longer than " + std::to_string(max) + " bytes", key);
    else if (required && s.empty())
      err = make_error("missing_field", "must not be empty", key);
  }
  return s;
}

}  // namespace

json Body::to_json() const {
  return json{{"id", id},
              {"name", name},
              {"kind", kind},
              {"region", region},
              {"regulator", regulator},
              {"webhook_url", webhook_url},
              {"webhook_secret", has_webhook_secret},
              {"emails", emails},
              {"public_key", public_key},
              {"fingerprint", fingerprint},
              {"receives", receives},
              {"state", state},
              {"added_at", added_at},
              {"updated_at", updated_at}};
}

bool valid_email_address(const std::string& address) {
  const auto at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= address.size() || address.size() > 254)
    return false;
  if (address.find('@', at + 1) != std::string::npos) return false;
  // Conservative: printable ASCII without spaces, angle brackets, quotes, commas.
  return std::all_of(address.begin(), address.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"' && c != ',' && c != ';' &&
           c != '(' && c != ')' && c != '\\';
  });
}

std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return {};
  std::string_view host = authority.front() == '['
                              ? authority.substr(0, std::min(authority.find(']'), authority.size() - 1) + 1)
                              : authority.substr(0, authority.find(':'));
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool acceptable_webhook_url(const std::string& url, bool allow_plain_http_to_loopback,
                            std::string& why) {
  std::string rest;
  bool plain = false;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    plain = true;
  } else {
    why = "expected an https:// URL";
    return false;
  }
  const bool bad_char = std::any_of(url.begin(), url.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f;
  });
  if (bad_char) {
    why = "contains spaces, control or non-ASCII characters";
    return false;
  }
  const std::string host = url_host(url);
  if (host.empty()) {
    why = "expected a host (and no user information)";
    return false;
  }
  if (plain && !(allow_plain_http_to_loopback && is_loopback_host(host))) {
    why = allow_plain_http_to_loopback
              ? "plain http is allowed only to loopback addresses; use https"
              : "plain http is not allowed (delivery.allow_plain_http_to_loopback is off); use https";
    return false;
  }
  return true;
}

Result<NewBody> validate_new_body(const json& params, bool allow_plain_http_to_loopback) {
  if (!params.is_object()) return make_error("invalid_request", "params must be an object", "params");
  static const std::vector<std::string> known = {"id",          "name",           "kind",
                                                 "region",      "regulator",      "webhook_url",
                                                 "webhook_secret", "emails",      "public_key",
                                                 "receives"};
  for (const auto& [k, _] : params.items())
    if (std::find(known.begin(), known.end(), k) == known.end())
      return make_error("invalid_field", "unknown field", caller_key(k));
  Error err;
  NewBody nb;
  Body& b = nb.body;
  b.id = field_text(params, "id", 16, true, err);
  b.name = field_text(params, "name", 200, true, err);
  b.kind = field_text(params, "kind", 32, true, err);
  b.region = field_text(params, "region", 64, false, err);
  b.regulator = field_text(params, "regulator", 8, false, err);
  b.webhook_url = field_text(params, "webhook_url", 2048, false, err);
  nb.webhook_secret = field_text(params, "webhook_secret", 200, false, err);
  // The key may be a whole public key file (two lines); parse_recipient_public_key is strict.
  std::string key_text;
  if (auto k = params.find("public_key"); k == params.end() || !k->is_string()) {
    if (err.code.empty()) err = make_error("missing_field", "expected the body's public key (text)", "public_key");
  } else if (k->get<std::string>().size() > 4096) {
    if (err.code.empty()) err = make_error("invalid_field", "longer than 4096 bytes", "public_key");
  } else {
    key_text = k->get<std::string>();
  }
  b.receives = field_text(params, "receives", 16, false, err);
  if (!err.code.empty()) return err;

  if (!std::all_of(b.id.begin(), b.id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      }))
    return make_error("invalid_field", "expected letters, digits, - and _ (an ODS code)", "id");
  static const std::vector<std::string> kinds = {
      "trust", "icb", "health_board", "gp_practice", "independent", "regulator",
      "national", "regional", "subject", "other"};
  if (std::find(kinds.begin(), kinds.end(), b.kind) == kinds.end())
    return make_error("invalid_field",
                      "expected one of trust, icb, health_board, gp_practice, independent, "
                      "regulator, national, regional, subject, other",
                      "kind");
  if (b.kind == "regulator") {
    static const std::vector<std::string> regs = {"GMC", "GDC", "GPhC", "NMC", "HCPC", "PSNI"};
    if (std::find(regs.begin(), regs.end(), b.regulator) == regs.end())
      return make_error("invalid_field", "a regulator body needs one of GMC, GDC, GPhC, NMC, HCPC, PSNI",
                        "regulator");
  } else if (!b.regulator.empty()) {
    return make_error("invalid_field", "only a body of kind regulator names a regulator", "regulator");
  }
  if (b.receives.empty()) b.receives = "selected";
  if (b.receives != "all" && b.receives != "selected")
    return make_error("invalid_field", "expected all or selected", "receives");
  if (!b.webhook_url.empty()) {
    std::string why;
    if (!acceptable_webhook_url(b.webhook_url, allow_plain_http_to_loopback, why))
      return make_error("invalid_field", why, "webhook_url");
  }
  if (!nb.webhook_secret.empty()) {
    std::string secret = nb.webhook_secret;
    if (secret.rfind("whsec_", 0) == 0) secret = secret.substr(6);
    auto decoded = crypto::base64_decode(secret);
    if (!decoded || decoded->size() < 24 || decoded->size() > 64)
      return make_error("invalid_field", "expected base64 of 24 to 64 bytes (optionally whsec_...)",
                        "webhook_secret");
    nb.webhook_secret = secret;
  }
  auto emails = params.find("emails");
  if (emails != params.end() && !emails->is_null()) {
    if (!emails->is_array() || emails->size() > 10)
      return make_error("invalid_field", "expected a list of up to 10 email addresses", "emails");
    for (std::size_t i = 0; i < emails->size(); ++i) {
      const auto& e = (*emails)[i];
      if (!e.is_string() || !valid_email_address(e.get<std::string>()))
        return make_error("invalid_field", "expected an email address",
                          "emails[" + std::to_string(i) + "]");
      b.emails.push_back(e.get<std::string>());
    }
  }
  if (b.webhook_url.empty() && b.emails.empty())
    return make_error("missing_field", "a body needs a webhook_url or at least one email address",
                      "webhook_url");
  auto pk = crypto::parse_recipient_public_key(key_text, "public_key");
  if (!pk) return make_error("invalid_field", pk.error().message, "public_key");
  b.public_key = crypto::base64_encode(pk->bytes);
  b.fingerprint = pk->fingerprint();
  b.state = "active";
  return nb;
}

Result<std::optional<Body>> find_body(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(s, db.prepare(std::string("SELECT ") + kBodyColumns + " FROM bodies WHERE id = ?"));
  s->bind(1, id);
  HPAN_TRY_ASSIGN(row, s->step());
  std::optional<Body> out;
  if (row) out = read_body(*s);
  s->reset();
  return out;
}

Result<std::vector<Body>> list_bodies(sql::Database& db, const std::string& state_filter) {
  HPAN_TRY_ASSIGN(s, db.prepare(std::string("SELECT ") + kBodyColumns +
                                " FROM bodies WHERE (?1 = '' AND state != 'removed') OR state = ?1"
                                " ORDER BY id"));
  s->bind(1, state_filter);
  std::vector<Body> out;
  while (true) {
    HPAN_TRY_ASSIGN(row, s->step());
    if (!row) break;
    out.push_back(read_body(*s));
  }
  return out;
}

Status insert_body(sql::Database& db, const NewBody& nb) {
  const Body& b = nb.body;
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "INSERT INTO bodies(id, name, kind, region, regulator, webhook_url,"
                         " webhook_secret, emails, public_key, fingerprint, receives, state,"
                         " added_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s->bind(1, b.id).bind(2, b.name).bind(3, b.kind).bind(4, b.region).bind(5, b.regulator);
  s->bind(6, b.webhook_url).bind(7, nb.webhook_secret).bind(8, json(b.emails).dump());
  s->bind(9, b.public_key).bind(10, b.fingerprint).bind(11, b.receives).bind(12, b.state);
  s->bind(13, b.added_at).bind(14, b.updated_at);
  return s->run();
}

Status set_body_state(sql::Database& db, const std::string& id, const std::string& state,
                      std::int64_t now) {
  HPAN_TRY_ASSIGN(s, db.prepare("UPDATE bodies SET state = ?, updated_at = ? WHERE id = ?"));
  s->bind(1, state).bind(2, now).bind(3, id);
  return s->run();
}

}  // namespace hpan::alerts
