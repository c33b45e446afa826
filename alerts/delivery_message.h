#pragma once
// What one delivery sends (DESIGN §4): the signed, sealed notice for one body, as a
// Standard Webhooks request or as a MIME email. Plain C++: the transports in daemon/
// send the bytes built here.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::alerts {

// One outbox row, with what is needed to build its message.
struct OutboundDelivery {
  std::string delivery_id;
  std::string notice_id;
  int version = 0;
  std::string body_id;
  std::string channel;       // webhook | email
  std::string address;       // URL, or comma-separated email addresses
  std::string message_type;  // issued | updated | revoked
  int attempts = 0;          // including the one being made
  std::int64_t created_at = 0;
  std::string body_public_key;  // base64 X25519
  std::string webhook_secret;   // base64, "" when none
  std::string message;          // for escalations and reminders: their fields (JSON)

  // Escalations and reminders carry no notice.
  bool is_notice() const { return !notice_id.empty(); }
};

// The sealed notice for this delivery's body: payload_base + body_id, canonical,
// signed and sealed (crypto/notice_envelope.h). Base64 text.
Result<std::string> seal_for_body(const OutboundDelivery& d, const nlohmann::json& payload_base,
                                  const crypto::SigningKey& key);

struct WebhookRequest {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// POST body {"type":"hpan.notice.<type>","notice_id","version","body_id","sealed"} with
// webhook-id (= delivery id), webhook-timestamp and webhook-signature:
// "v1a,<base64 Ed25519 of id.timestamp.body>" and, with a shared secret, " v1,<base64 HMAC>".
Result<WebhookRequest> build_webhook(const OutboundDelivery& d, const nlohmann::json& payload_base,
                                     const crypto::SigningKey& key, std::int64_t now);

// An escalation or reminder (no notice, no personal data) as a Standard Webhooks POST of
// {"type":"hpan.<message_type>", ...its fields}, signed v1a like a notice.
Result<WebhookRequest> build_message_webhook(const OutboundDelivery& d, const crypto::SigningKey& key,
                                             std::int64_t now);

// The Standard Webhooks public key of the issuer: "whpk_" + base64(Ed25519 public key).
std::string webhook_public_key(const crypto::SigningPublicKey& pk);

struct EmailMessage {
  std::string from;
  std::vector<std::string> recipients;
  std::string data;  // RFC 5322 message, CRLF line ends
};

// A multipart/mixed message: a plain-text part that says a notice is waiting (no
// personal data) and the sealed notice attached as HPAN-…-vN.hpan. Message-ID is
// derived from the delivery id. Every header value is checked: error "invalid_header".
Result<EmailMessage> build_email(const OutboundDelivery& d, const nlohmann::json& payload_base,
                                 const crypto::SigningKey& key, const std::string& from,
                                 std::int64_t now);

// An escalation or reminder as a plain-text email: its fields, one per line.
Result<EmailMessage> build_message_email(const OutboundDelivery& d, const std::string& from,
                                         std::int64_t now);

// A header value is printable ASCII (0x20-0x7E) and at most 900 bytes: no CR, LF or
// other control characters, no raw non-ASCII. Error code "invalid_header", naming `name`.
Status check_header_value(std::string_view name, std::string_view value);

}  // namespace hpan::alerts
