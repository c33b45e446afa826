#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace hpan::config {

namespace {

// What a setting holds; the parser and the message for each.
enum class Type { text, abs_path, opt_path, boolean, integer, duration, period, period_list, size,
                  mode, choice, smtp_url, email, host_port, roles, time_of_day };

struct Setting {
  std::string key;
  Type type;
  std::string fallback;  // the default, in the YAML form the loader reads
  std::string help;
  bool reloadable;
  std::vector<std::string> choices;  // for Type::choice
  std::int64_t min = 0, max = 0;     // for Type::integer
  // Stores the parsed value; `node` has already been checked against `type`.
  std::function<void(Config&, const YAML::Node&)> apply;
};

std::optional<std::uint64_t> parse_size(const std::string& s);
std::optional<std::vector<RoleRule>> parse_roles(const YAML::Node& n, std::string& why);

Period period_of(const YAML::Node& n, bool calendar) { return *parse_period(n.Scalar(), calendar); }

// THE table. Order is the order of the dump and the docs.
const std::vector<Setting>& schema() {
  static const std::vector<Setting> table = [] {
    std::vector<Setting> t;
    auto add = [&t](Setting s) { t.push_back(std::move(s)); };
    add({"state_dir", Type::abs_path, "/var/lib/hpand", "Folder for the SQLite store, keys made by rotation and the keyset.", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.state_dir = n.Scalar(); }});
    add({"control.socket", Type::abs_path, "/run/hpand/control.sock", "Control socket path (under 108 bytes). Ignored under socket activation.", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.control.socket = n.Scalar(); }});
    add({"control.socket_mode", Type::mode, "\"0660\"", "Permissions of the control socket (octal).", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.control.socket_mode = static_cast<unsigned>(std::stoul(n.Scalar(), nullptr, 8)); }});
    add({"control.socket_group", Type::text, "\"\"", "Group that owns the control socket (\"\" leaves it as created).", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.control.socket_group = n.Scalar(); }});
    add({"control.roles", Type::roles, "{hpan-admin: administrator}",
         "Who may do what: keys are a group name or group:NAME, user:NAME, uid:N, gid:N; values viewer, operator or administrator.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { std::string why; c.control.roles = *parse_roles(n, why); }});
    add({"control.max_request_size", Type::size, "1MiB", "Longest accepted request line.", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.control.max_request_size = *parse_size(n.Scalar()); }});
    add({"keys.signing", Type::abs_path, "/run/credentials/hpand.service/signing.key",
         "The issuer's Ed25519 signing key file (hpan-keygen signing); under systemd, a LoadCredential= file.", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.keys.signing = n.Scalar(); }});
    add({"keys.keyset", Type::opt_path, "\"\"", "The public keyset file (\"\" = <state_dir>/keyset.json).", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.keys.keyset = n.Scalar(); }});
    add({"delivery.concurrency", Type::integer, "64", "Deliveries in flight at once.", true, {}, 1, 10000,
         [](Config& c, const YAML::Node& n) { c.delivery.concurrency = std::stoi(n.Scalar()); }});
    add({"delivery.per_host", Type::integer, "8", "Deliveries in flight to one host at once.", true, {}, 1, 10000,
         [](Config& c, const YAML::Node& n) { c.delivery.per_host = std::stoi(n.Scalar()); }});
    add({"delivery.timeout", Type::duration, "30s", "Time allowed for one delivery attempt.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.timeout = period_of(n, false); }});
    add({"delivery.retry.first", Type::duration, "10s", "First retry delay (it doubles, with jitter).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.retry_first = period_of(n, false); }});
    add({"delivery.retry.max_interval", Type::duration, "1h", "Longest delay between retries.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.retry_max_interval = period_of(n, false); }});
    add({"delivery.retry.give_up_after", Type::duration, "72h", "After this, a delivery is dead (and escalated).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.retry_give_up_after = period_of(n, false); }});
    add({"delivery.smtp.url", Type::smtp_url, "smtp://localhost:25", "SMTP server (smtp:// with STARTTLS, or smtps://).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.smtp_url = n.Scalar(); }});
    add({"delivery.smtp.from", Type::email, "hpan@localhost", "Envelope and header sender.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.smtp_from = n.Scalar(); }});
    add({"delivery.smtp.starttls", Type::choice, "required", "required, or none (only to a loopback SMTP server).", true, {"required", "none"}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.smtp_starttls = n.Scalar(); }});
    add({"delivery.smtp.username", Type::text, "\"\"", "SMTP user name (\"\" = no authentication).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.smtp_username = n.Scalar(); }});
    add({"delivery.smtp.password_file", Type::opt_path, "\"\"", "File holding the SMTP password.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.smtp_password_file = n.Scalar(); }});
    add({"delivery.tls.ca_file", Type::opt_path, "\"\"", "CA bundle for TLS verification (\"\" = the system's). Verification is always on.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.tls_ca_file = n.Scalar(); }});
    add({"delivery.allow_plain_http_to_loopback", Type::boolean, "false", "Allow http:// webhooks to 127.0.0.0/8, ::1 and localhost (tests, demos).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.delivery.allow_plain_http_to_loopback = n.Scalar() == "true"; }});
    add({"lifecycle.representation_period", Type::period, "14d", "Time the practitioner has to make representations after being informed.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.lifecycle.representation_period = period_of(n, true); }});
    add({"lifecycle.review_interval", Type::period, "6mo", "Next review of an active notice, after issue or the last review.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.lifecycle.review_interval = period_of(n, true); }});
    add({"reminders.lead_times", Type::period_list, "[14d, 3d, 0d]", "Reminders before a review falls due (0d = on the day).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) {
           c.reminders.lead_times.clear();
           for (const auto& e : n) c.reminders.lead_times.push_back(period_of(e, true));
         }});
    add({"reminders.escalate_after", Type::period, "7d", "Overdue this long, reminders also go to the escalation contact.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.reminders.escalate_after = period_of(n, true); }});
    add({"reminders.escalation_contact", Type::text, "\"\"", "Receives escalations of overdue cases and of dead deliveries: email addresses and/or one webhook URL, comma-separated.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.reminders.escalation_contact = n.Scalar(); }});
    add({"reminders.review_case_owner", Type::text, "\"\"", "Owner of the review case every issued notice gets: email addresses and/or one webhook URL, comma-separated (\"\" = the escalation contact).", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.reminders.review_case_owner = n.Scalar(); }});
    add({"reminders.send_at", Type::time_of_day, "\"09:00\"", "Time of day (Europe/London) reminders go out.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.reminders.send_at = n.Scalar(); }});
    for (const auto& [kind, fallback] : std::vector<std::pair<std::string, std::string>>{
             {"exclusion", "4w"}, {"suspension", "4w"}, {"restriction", "4w"}, {"action-plan", "3mo"}}) {
      const std::string k = kind;
      add({"reminders.intervals." + kind, Type::period, fallback, "Review interval for " + kind + " cases.", true, {}, 0, 0,
           [k](Config& c, const YAML::Node& n) { c.reminders.intervals[k] = period_of(n, true); }});
    }
    // Retired in schema 3 but still accepted, so that a file written for an earlier hpand
    // (whose --dump-default-config printed it) still loads. It never had an effect.
    add({"reminders.intervals.hpan-review", Type::period, "6mo", "Deprecated, no effect: lifecycle.review_interval sets when notices are reviewed.", true, {}, 0, 0,
         [](Config&, const YAML::Node&) {}});
    add({"retention.revoked_notice_personal_data", Type::period, "6y", "How long personal data of revoked and withdrawn notices is kept.", true, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.retention.revoked_notice_personal_data = period_of(n, true); }});
    add({"log.level", Type::choice, "info", "trace, debug, info, warn, error, critical or off.", true, {"trace", "debug", "info", "warn", "error", "critical", "off"}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.log.level = n.Scalar(); }});
    add({"log.format", Type::choice, "auto", "auto (journal under systemd, plain otherwise), journal or plain.", false, {"auto", "journal", "plain"}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.log.format = n.Scalar(); }});
    add({"metrics.listen", Type::host_port, "127.0.0.1:9465", "Prometheus metrics address (\"\" = off).", false, {}, 0, 0,
         [](Config& c, const YAML::Node& n) { c.metrics.listen = n.Scalar(); }});
    return t;
  }();
  return table;
}

std::string expected_of(const Setting& s) {
  switch (s.type) {
    case Type::text: return "a string";
    case Type::abs_path: return "an absolute path";
    case Type::opt_path: return "an absolute path or \"\"";
    case Type::boolean: return "true or false";
    case Type::integer: return "a whole number from " + std::to_string(s.min) + " to " + std::to_string(s.max);
    case Type::duration: return "a duration like 10s, 5m, 1h or 3d";
    case Type::period: return "a period like 14d, 4w, 6mo or 6y";
    case Type::period_list: return "a list of periods like [14d, 3d, 0d]";
    case Type::size: return "a size like 1MiB, 64KiB or a number of bytes";
    case Type::mode: return "an octal mode like \"0660\"";
    case Type::choice: {
      std::string out = "one of";
      for (const auto& c : s.choices) out += " " + c;
      return out;
    }
    case Type::smtp_url: return "an smtp:// or smtps:// URL like smtp://mail.example.nhs.uk:587";
    case Type::email: return "an email address";
    case Type::host_port: return "host:port like 127.0.0.1:9465 or [::1]:9465, or \"\"";
    case Type::roles: return "a map of group/user:NAME/uid:N/gid:N to viewer, operator or administrator";
    case Type::time_of_day: return "a time like \"09:00\"";
  }
  return "a value";
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.rfind("127.", 0) == 0;
}

// The host of a URL "scheme://[user@]host[:port][/...]".
std::string url_host(const std::string& url) {
  auto rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

// Checks a node against its setting; "" when fine, else why not.
std::string check(const Setting& s, const YAML::Node& n) {
  if (s.type == Type::roles) {
    std::string why;
    if (!n.IsMap() && !n.IsNull()) return "expected " + expected_of(s);
    if (!parse_roles(n, why)) return why;
    return "";
  }
  if (s.type == Type::period_list) {
    if (!n.IsSequence()) return "expected " + expected_of(s);
    for (const auto& e : n)
      if (!e.IsScalar() || !parse_period(e.Scalar(), true))
        return "expected " + expected_of(s) + ", got " + (e.IsScalar() ? "\"" + e.Scalar() + "\"" : "a nested value");
    return "";
  }
  if (!n.IsScalar()) return "expected " + expected_of(s) + ", got a " + (n.IsMap() ? "map" : n.IsSequence() ? "list" : "null");
  const std::string v = n.Scalar();
  const std::string got = ", got \"" + v + "\"";
  bool ok = true;
  switch (s.type) {
    case Type::text: ok = std::none_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }); break;
    case Type::abs_path: ok = !v.empty() && v.front() == '/'; break;
    case Type::opt_path: ok = v.empty() || v.front() == '/'; break;
    case Type::boolean: ok = v == "true" || v == "false"; break;
    case Type::integer: {
      errno = 0;
      char* end = nullptr;
      const long long x = std::strtoll(v.c_str(), &end, 10);
      ok = !v.empty() && errno == 0 && *end == '\0' && x >= s.min && x <= s.max;
      break;
    }
    case Type::duration: ok = parse_period(v, false).has_value(); break;
    case Type::period: ok = parse_period(v, true).has_value(); break;
    case Type::size: ok = parse_size(v).has_value(); break;
    case Type::mode: ok = v.size() >= 3 && v.size() <= 4 && v.find_first_not_of("01234567") == std::string::npos; break;
    case Type::choice: ok = std::find(s.choices.begin(), s.choices.end(), v) != s.choices.end(); break;
    case Type::smtp_url:
      ok = (v.rfind("smtp://", 0) == 0 || v.rfind("smtps://", 0) == 0) && !url_host(v).empty() &&
           v.find_first_of(" \t\r\n") == std::string::npos;
      break;
    case Type::email: {
      const auto at = v.find('@');
      ok = at != std::string::npos && at > 0 && at + 1 < v.size() && v.find_first_of(" <>\r\n,;\"") == std::string::npos;
      break;
    }
    case Type::host_port: {
      if (v.empty()) break;
      const auto colon = v.rfind(':');
      const std::string port = colon == std::string::npos ? "" : v.substr(colon + 1);
      const std::string host = colon == std::string::npos ? "" : v.substr(0, colon);
      ok = !host.empty() && !port.empty() && port.size() <= 5 &&
           port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) > 0 && std::stoi(port) < 65536 &&
           (host.front() != '[' || host.back() == ']');
      break;
    }
    case Type::time_of_day:
      ok = v.size() == 5 && v[2] == ':' && std::isdigit(static_cast<unsigned char>(v[0])) &&
           std::isdigit(static_cast<unsigned char>(v[1])) && std::isdigit(static_cast<unsigned char>(v[3])) &&
           std::isdigit(static_cast<unsigned char>(v[4])) && std::stoi(v.substr(0, 2)) < 24 && std::stoi(v.substr(3)) < 60;
      break;
    default: break;
  }
  return ok ? "" : "expected " + expected_of(s) + got;
}

std::optional<std::uint64_t> parse_size(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i > 12) return std::nullopt;
  const std::uint64_t n = std::stoull(s.substr(0, i));
  const std::string unit = s.substr(i);
  static const std::vector<std::pair<std::string, std::uint64_t>> units = {
      {"", 1}, {"B", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
      {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024ull * 1024 * 1024}};
  for (const auto& [u, mult] : units)
    if (unit == u) return n * mult;
  return std::nullopt;
}

std::optional<std::vector<RoleRule>> parse_roles(const YAML::Node& n, std::string& why) {
  std::vector<RoleRule> rules;
  if (n.IsNull()) return rules;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      why = "expected name: role pairs";
      return std::nullopt;
    }
    const std::string key = kv.first.Scalar();
    const auto role = parse_role(kv.second.Scalar());
    if (!role) {
      why = "role for \"" + key + "\": expected viewer, operator or administrator, got \"" + kv.second.Scalar() + "\"";
      return std::nullopt;
    }
    RoleRule r;
    r.role = *role;
    auto numeric = [&](const std::string& text, std::uint32_t& out) {
      if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos) return false;
      const auto v = std::stoull(text);
      if (v > 0xFFFFFFFFull) return false;
      out = static_cast<std::uint32_t>(v);
      return true;
    };
    bool ok = true;
    if (key.rfind("uid:", 0) == 0) { r.kind = RoleRule::Kind::uid; ok = numeric(key.substr(4), r.id); }
    else if (key.rfind("gid:", 0) == 0) { r.kind = RoleRule::Kind::gid; ok = numeric(key.substr(4), r.id); }
    else if (key.rfind("user:", 0) == 0) { r.kind = RoleRule::Kind::user; r.name = key.substr(5); ok = !r.name.empty(); }
    else if (key.rfind("group:", 0) == 0) { r.kind = RoleRule::Kind::group; r.name = key.substr(6); ok = !r.name.empty(); }
    else { r.kind = RoleRule::Kind::group; r.name = key; ok = key.find(':') == std::string::npos && !key.empty(); }
    if (!ok) {
      why = "\"" + key + "\": expected a group name, group:NAME, user:NAME, uid:N or gid:N";
      return std::nullopt;
    }
    rules.push_back(r);
  }
  return rules;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  LoadResult load(const std::string& text) {
    LoadResult out;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      errors_.push_back({file_, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg});
      out.errors = errors_;
      return out;
    }
    Config c = defaults();
    if (!root.IsNull()) {
      if (!root.IsMap()) {
        error(root, "", "expected a map of settings at the top level");
      } else {
        walk(root, "", c);
      }
    }
    cross_check(root, c);
    out.errors = errors_;
    if (errors_.empty()) out.config = std::move(c);
    return out;
  }

  static Config defaults() {
    Config c;
    for (const auto& s : schema()) s.apply(c, YAML::Load(s.fallback));
    return c;
  }

 private:
  void error(const YAML::Node& n, const std::string& key, const std::string& message) {
    const auto m = n.Mark();
    errors_.push_back({file_, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, key, message});
  }

  // Walks a map: leaves are settings, prefixes recurse, anything else is unknown.
  void walk(const YAML::Node& map, const std::string& prefix, Config& c) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        error(kv.first, prefix, "keys must be plain names");
        continue;
      }
      const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      if (!seen.insert(key).second) {
        error(kv.first, key, "given twice");
        continue;
      }
      const auto& table = schema();
      auto it = std::find_if(table.begin(), table.end(), [&](const Setting& s) { return s.key == key; });
      if (it != table.end()) {
        const std::string why = check(*it, kv.second);
        if (!why.empty()) error(kv.second, key, why);
        else it->apply(c, kv.second);
        continue;
      }
      const bool is_prefix = std::any_of(table.begin(), table.end(),
                                         [&](const Setting& s) { return s.key.rfind(key + ".", 0) == 0; });
      if (is_prefix) {
        if (kv.second.IsMap()) walk(kv.second, key, c);
        else if (!kv.second.IsNull()) error(kv.second, key, "expected a map of settings");
        continue;
      }
      std::string best;
      std::size_t best_d = 4;
      for (const auto& s : table) {
        const auto d = edit_distance(key, s.key);
        if (d < best_d) { best_d = d; best = s.key; }
      }
      error(kv.first, key, "unknown key" + (best.empty() ? std::string() : " (did you mean " + best + "?)"));
    }
  }

  void cross_check(const YAML::Node& root, const Config& c) {
    if (c.delivery.smtp_starttls == "none" && c.delivery.smtp_url.rfind("smtp://", 0) == 0 &&
        !is_loopback(url_host(c.delivery.smtp_url))) {
      YAML::Node n = root.IsMap() && root["delivery"] && root["delivery"]["smtp"] ? root["delivery"]["smtp"]["starttls"] : root;
      error(n, "delivery.smtp.starttls",
            "none is allowed only when delivery.smtp.url is a loopback host (127.0.0.0/8, ::1, localhost); got " +
                url_host(c.delivery.smtp_url));
    }
    if (c.delivery.retry_max_interval.seconds < c.delivery.retry_first.seconds) {
      error(root, "delivery.retry.max_interval", "must not be shorter than delivery.retry.first");
    }
    if (c.control.socket.size() >= 108) error(root, "control.socket", "must be under 108 bytes");
  }

  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

std::optional<Period> parse_period(const std::string& text, bool allow_calendar) {
  if (text == "0") return Period{};
  Period p;
  std::size_t i = 0;
  if (text.empty()) return std::nullopt;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j - i > 9) return std::nullopt;
    const std::int64_t n = std::stoll(text.substr(i, j - i));
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    if (unit == "s") p.seconds += n;
    else if (unit == "m") p.seconds += n * 60;
    else if (unit == "h") p.seconds += n * 3600;
    else if (unit == "d") p.seconds += n * 86400;
    else if (unit == "w") p.seconds += n * 7 * 86400;
    else if (unit == "mo" && allow_calendar) p.months += static_cast<int>(n);
    else if (unit == "y" && allow_calendar) p.months += static_cast<int>(n * 12);
    else return std::nullopt;
    i = k;
  }
  return p;
}

std::string format_period(const Period& p) {
  std::string out;
  if (p.months != 0) out += p.months % 12 == 0 ? std::to_string(p.months / 12) + "y" : std::to_string(p.months) + "mo";
  std::int64_t s = p.seconds;
  const std::pair<const char*, std::int64_t> units[] = {{"w", 7 * 86400}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
  for (const auto& [u, n] : units) {
    if (s >= n && (s % n == 0 || std::string(u) != "w")) {
      out += std::to_string(s / n) + u;
      s %= n;
    }
  }
  return out.empty() ? "0d" : out;
}

LoadResult load_config_string(const std::string& text, const std::string& display_name) {
  return Loader(display_name).load(text);
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, 0, "", std::string("cannot read the file: ") + std::strerror(errno)});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const auto slash = path.rfind('/');
  return load_config_string(ss.str(), slash == std::string::npos ? path : path.substr(slash + 1));
}

Config default_config() { return Loader::defaults(); }

std::string dump_default_config() {
  std::string out = "# hpand configuration (hpand.yaml(5)). Every key is shown at its default;\n"
                    "# an empty file is valid. Generated by `hpand --dump-default-config`.\n";
  std::string section;
  for (const auto& s : schema()) {
    const auto dot = s.key.rfind('.');
    const std::string parent = dot == std::string::npos ? "" : s.key.substr(0, dot);
    // Open each level of the parent path that the previous key did not.
    std::vector<std::string> parts;
    for (std::size_t start = 0; !parent.empty();) {
      const auto d = parent.find('.', start);
      parts.push_back(parent.substr(0, d));
      if (d == std::string::npos) break;
      start = d + 1;
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (section == parts[i] || section.rfind(parts[i] + ".", 0) == 0) continue;
      const auto name = parts[i].substr(parts[i].rfind('.') == std::string::npos ? 0 : parts[i].rfind('.') + 1);
      out += std::string(i * 2, ' ') + name + ":\n";
    }
    section = parent;
    const std::string indent(parts.size() * 2, ' ');
    out += indent + "# " + s.help + (s.reloadable ? "" : " (restart to change)") + "\n";
    out += indent + s.key.substr(dot == std::string::npos ? 0 : dot + 1) + ": " + s.fallback + "\n";
  }
  return out;
}

std::string config_docs_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the settings table in `config/loader.cpp` by `hpand --config-docs`; a test\n"
      "keeps this file in step. The file is YAML (default `/etc/hpand/hpand.yaml`); every key has\n"
      "a default, so an empty file is valid. Unknown keys are errors. Errors name the file, line,\n"
      "column and key, all at once. `hpand --check-config FILE` validates without starting;\n"
      "SIGHUP re-reads the reloadable keys.\n\n"
      "Durations: a number and a unit, s, m (minutes), h, d, w; periods also mo (calendar\n"
      "months) and y; several may be joined (`1h30m`). Sizes: bytes, or KiB, MiB, GiB, KB, MB, GB.\n\n"
      "| key | type | default | reload | meaning |\n|---|---|---|---|---|\n";
  for (const auto& s : schema()) {
    std::string fallback = s.fallback;
    std::replace(fallback.begin(), fallback.end(), '|', '/');
    out += "| `" + s.key + "` | " + expected_of(s) + " | `" + fallback + "` | " + (s.reloadable ? "yes" : "restart") +
           " | " + s.help + " |\n";
  }
  return out;
}

}  // namespace hpan::config
