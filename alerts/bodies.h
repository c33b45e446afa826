#pragma once
// Recipient bodies (DESIGN §2): registration, suspension, removal, and who receives
// which notice. Plain SQL on the open store; callers own the transaction.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

struct Body {
  std::string id;
  std::string name;
  std::string kind;       // trust, icb, health_board, gp_practice, independent, regulator, ...
  std::string region;
  std::string regulator;  // for kind "regulator"
  std::string webhook_url;
  bool has_webhook_secret = false;
  std::vector<std::string> emails;
  std::string public_key;  // base64 X25519
  std::string fingerprint;
  std::string receives;    // all | selected
  std::string state;       // active | suspended | removed
  std::int64_t added_at = 0;
  std::int64_t updated_at = 0;

  nlohmann::json to_json() const;
};

// Validates the params of body.add and returns the body to insert plus its secret.
struct NewBody {
  Body body;
  std::string webhook_secret;  // base64, "" when none
};
// `allow_plain_http_to_loopback` admits http:// URLs to 127.0.0.0/8, ::1, localhost.
Result<NewBody> validate_new_body(const nlohmann::json& params, bool allow_plain_http_to_loopback);

// True for https URLs, and for http URLs to loopback when allowed. Sets `why` otherwise.
bool acceptable_webhook_url(const std::string& url, bool allow_plain_http_to_loopback,
                            std::string& why);
bool valid_email_address(const std::string& address);
// The host of a URL, lower-cased ("[::1]" keeps its brackets); "" when there is none or
// the URL has user information.
std::string url_host(std::string_view url);

Result<std::optional<Body>> find_body(sql::Database& db, const std::string& id);
Result<std::vector<Body>> list_bodies(sql::Database& db, const std::string& state_filter);
Status insert_body(sql::Database& db, const NewBody& nb);
Status set_body_state(sql::Database& db, const std::string& id, const std::string& state,
                      std::int64_t now);

}  // namespace hpan::alerts
