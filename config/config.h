#pragma once
// hpand's configuration (DESIGN §7): a typed, immutable value with a default for every
// key, so an empty file is valid. Loaded from YAML by config/loader.h; the one table
// of settings in config/schema.cpp drives the loader, the default dump and docs/config.md.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/role.h"

namespace hpan::config {

// A length of time: calendar months plus seconds ("6mo", "14d", "1h30m").
struct Period {
  int months = 0;
  std::int64_t seconds = 0;
  bool operator==(const Period&) const = default;
};

struct Config {
  std::string state_dir;
  struct Control {
    std::string socket;
    unsigned socket_mode = 0660;
    std::string socket_group;
    std::vector<RoleRule> roles;
    std::uint64_t max_request_size = 0;
  } control;
  struct Keys {
    std::string signing;
    std::string keyset;  // "" = <state_dir>/keyset.json
  } keys;
  struct Delivery {
    int concurrency = 0;
    int per_host = 0;
    Period timeout;
    Period retry_first;
    Period retry_max_interval;
    Period retry_give_up_after;
    std::string smtp_url;
    std::string smtp_from;
    std::string smtp_starttls;  // required | none
    std::string smtp_username;
    std::string smtp_password_file;
    std::string tls_ca_file;
    bool allow_plain_http_to_loopback = false;
  } delivery;
  struct Lifecycle {
    Period representation_period;
    Period review_interval;
  } lifecycle;
  struct Reminders {
    std::vector<Period> lead_times;
    Period escalate_after;
    std::string escalation_contact;
    std::string review_case_owner;
    std::string send_at;  // HH:MM, Europe/London
    std::map<std::string, Period> intervals;  // by case kind
  } reminders;
  struct Retention {
    Period revoked_notice_personal_data;
  } retention;
  struct Log {
    std::string level;
    std::string format;
  } log;
  struct Metrics {
    std::string listen;  // host:port, "" = off
  } metrics;
};

}  // namespace hpan::config
