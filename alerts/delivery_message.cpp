#include "alerts/delivery_message.h"

#include <algorithm>
#include <ctime>

#include "alerts/bodies.h"
#include "crypto/key_file.h"
#include "crypto/notice_envelope.h"

namespace hpan::alerts {

using nlohmann::json;

Status check_header_value(std::string_view name, std::string_view value) {
  if (value.size() > 900)
    return make_error("invalid_header", "header value longer than 900 bytes", std::string(name));
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e)
      return make_error("invalid_header", "header value holds a control or non-ASCII character",
                        std::string(name));
  }
  return {};
}

Result<std::string> seal_for_body(const OutboundDelivery& d, const json& payload_base,
                                  const crypto::SigningKey& key) {
  json payload = payload_base;
  payload["body_id"] = d.body_id;
  HPAN_TRY_ASSIGN(text, crypto::canonical_json(payload));
  HPAN_TRY_ASSIGN(pk, crypto::parse_recipient_public_key(d.body_public_key, "public_key"));
  return crypto::seal_notice(key, text, pk);
}

std::string webhook_public_key(const crypto::SigningPublicKey& pk) {
  return "whpk_" + crypto::base64_encode(pk.bytes);
}

namespace {

// Standard Webhooks headers for `body`: webhook-id, -timestamp and -signature (v1a
// Ed25519 always, v1 HMAC with a shared secret), each header value checked.
Result<WebhookRequest> signed_request(const OutboundDelivery& d, std::string body,
                                      const crypto::SigningKey& key, std::int64_t now) {
  const std::string ts = std::to_string(now);
  const std::string to_sign = d.delivery_id + "." + ts + "." + body;
  std::string signature = "v1a," + crypto::base64_encode(key.sign_detached(to_sign));
  if (!d.webhook_secret.empty()) {
    HPAN_TRY_ASSIGN(secret, crypto::base64_decode(d.webhook_secret));
    signature += " v1," + crypto::base64_encode(crypto::hmac_sha256(secret, to_sign));
  }
  WebhookRequest req{d.address, std::move(body),
                     {{"content-type", "application/json"},
                      {"webhook-id", d.delivery_id},
                      {"webhook-timestamp", ts},
                      {"webhook-signature", signature},
                      {"user-agent", "hpand/0.1"}}};
  for (const auto& [name, value] : req.headers) HPAN_TRY(check_header_value(name, value));
  return req;
}

}  // namespace

Result<WebhookRequest> build_webhook(const OutboundDelivery& d, const json& payload_base,
                                     const crypto::SigningKey& key, std::int64_t now) {
  HPAN_TRY_ASSIGN(sealed, seal_for_body(d, payload_base, key));
  const json body = {{"type", "hpan.notice." + d.message_type},
                     {"notice_id", d.notice_id},
                     {"version", d.version},
                     {"body_id", d.body_id},
                     {"sealed", sealed}};
  HPAN_TRY_ASSIGN(text, crypto::canonical_json(body));
  return signed_request(d, std::move(text), key, now);
}

Result<WebhookRequest> build_message_webhook(const OutboundDelivery& d, const crypto::SigningKey& key,
                                             std::int64_t now) {
  json body = json::parse(d.message, nullptr, false);
  if (!body.is_object()) return make_error("invalid_message", "the stored message is not a JSON object");
  body["type"] = "hpan." + d.message_type;
  body["message_id"] = d.delivery_id;
  HPAN_TRY_ASSIGN(text, crypto::canonical_json(body));
  return signed_request(d, std::move(text), key, now);
}

namespace {

std::string rfc5322_date(std::int64_t now) {
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Splits "a@x, b@y" into addresses, each checked.
Result<std::vector<std::string>> split_addresses(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string a = list.substr(start, comma - start);
    a.erase(0, a.find_first_not_of(' '));
    a.erase(a.find_last_not_of(' ') + 1);
    if (!a.empty()) {
      if (!valid_email_address(a)) return make_error("invalid_header", "not an email address", "To");
      out.push_back(a);
    }
    start = comma + 1;
  }
  if (out.empty()) return make_error("invalid_header", "no recipient address", "To");
  return out;
}

// The header block every message starts with, each value checked.
Result<std::string> mail_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    HPAN_TRY(check_header_value(name, value));
    out += name + ": " + value + "\r\n";
  }
  return out;
}

}  // namespace

Result<EmailMessage> build_message_email(const OutboundDelivery& d, const std::string& from, std::int64_t now) {
  if (!valid_email_address(from)) return make_error("invalid_header", "not an email address", "From");
  HPAN_TRY_ASSIGN(recipients, split_addresses(d.address));
  const json fields = json::parse(d.message, nullptr, false);
  if (!fields.is_object()) return make_error("invalid_message", "the stored message is not a JSON object");
  std::string to;
  for (const auto& r : recipients) to += (to.empty() ? "" : ", ") + r;
  const std::string subject = fields.value("subject", "HPAN " + d.message_type);
  HPAN_TRY_ASSIGN(data, mail_headers({{"From", from},
                                      {"To", to},
                                      {"Subject", subject},
                                      {"Date", rfc5322_date(now)},
                                      {"Message-ID", "<" + d.delivery_id + "@hpand.invalid>"},
                                      {"MIME-Version", "1.0"},
                                      {"Content-Type", "text/plain; charset=utf-8"},
                                      {"Content-Transfer-Encoding", "8bit"},
                                      {"X-HPAN-Delivery-Id", d.delivery_id}}));
  data += "\r\n";
  for (const auto& [k, v] : fields.items()) {
    if (k == "subject") continue;
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    // A field value never starts a line of its own: line breaks become spaces.
    std::replace(value.begin(), value.end(), '\n', ' ');
    std::replace(value.begin(), value.end(), '\r', ' ');
    data += k + ": " + value + "\r\n";
  }
  return EmailMessage{from, recipients, data};
}

Result<EmailMessage> build_email(const OutboundDelivery& d, const json& payload_base,
                                 const crypto::SigningKey& key, const std::string& from,
                                 std::int64_t now) {
  if (!valid_email_address(from)) return make_error("invalid_header", "not an email address", "From");
  HPAN_TRY_ASSIGN(recipients, split_addresses(d.address));
  HPAN_TRY_ASSIGN(sealed, seal_for_body(d, payload_base, key));
  const std::string filename = d.notice_id + "-v" + std::to_string(d.version) + ".hpan";
  const std::string boundary = "hpan-" + crypto::hex_encode(crypto::random_bytes(12));
  std::string to;
  for (const auto& r : recipients) to += (to.empty() ? "" : ", ") + r;
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"From", from},
      {"To", to},
      {"Subject", "HPAN notice " + d.notice_id + " version " + std::to_string(d.version) + " (" +
                      d.message_type + ")"},
      {"Date", rfc5322_date(now)},
      {"Message-ID", "<" + d.delivery_id + "@hpand.invalid>"},
      {"MIME-Version", "1.0"},
      {"Content-Type", "multipart/mixed; boundary=\"" + boundary + "\""},
      {"X-HPAN-Delivery-Id", d.delivery_id},
      {"X-HPAN-Notice", d.notice_id + " v" + std::to_string(d.version) + " " + d.message_type},
  };
  HPAN_TRY_ASSIGN(data, mail_headers(headers));
  data += "\r\n--" + boundary + "\r\n";
  data += "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
  data += "A Healthcare Professional Alert Notice (" + d.notice_id + ", version " +
          std::to_string(d.version) + ", " + d.message_type + ") is waiting for body " + d.body_id +
          ".\r\n\r\nIt is attached as " + filename +
          ", signed by the issuer and sealed to your body's key.\r\nOpen and verify it with:\r\n\r\n"
          "  hpan-verify --key BODY.key --keyset ISSUER.keyset " + filename +
          "\r\n\r\nThis message itself contains no personal data.\r\n";
  data += "\r\n--" + boundary + "\r\n";
  data += "Content-Type: application/vnd.hpan.sealed; name=\"" + filename + "\"\r\n";
  data += "Content-Disposition: attachment; filename=\"" + filename + "\"\r\n";
  data += "Content-Transfer-Encoding: 7bit\r\n\r\n";
  for (std::size_t i = 0; i < sealed.size(); i += 76) data += sealed.substr(i, 76) + "\r\n";
  data += "\r\n--" + boundary + "--\r\n";
  return EmailMessage{from, recipients, data};
}

}  // namespace hpan::alerts
