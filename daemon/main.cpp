// hpand: wiring only. Parses the command line, loads the configuration, sets up
// logging and runs the service (daemon/service.h).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "config/loader.h"
#include "daemon/logging.h"
#include "daemon/service.h"

namespace {

hpan::alerts::CalendarPeriod to_alerts(const hpan::config::Period& p) { return {p.months, p.seconds}; }

// The service's options from a loaded configuration (also on SIGHUP).
hpan::Result<hpan::daemon::ServiceOptions> service_options(const hpan::config::Config& c) {
  hpan::daemon::ServiceOptions o;
  o.state_dir = c.state_dir;
  o.socket_path = c.control.socket;
  o.socket_mode = static_cast<mode_t>(c.control.socket_mode);
  o.socket_group = c.control.socket_group;
  o.roles = c.control.roles;
  o.max_request_size = static_cast<std::size_t>(c.control.max_request_size);
  o.signing_key = c.keys.signing;
  o.keyset = c.keys.keyset;
  o.lifecycle.representation_period = to_alerts(c.lifecycle.representation_period);
  o.lifecycle.review_interval = to_alerts(c.lifecycle.review_interval);
  o.lifecycle.retention = to_alerts(c.retention.revoked_notice_personal_data);
  o.lifecycle.allow_plain_http_to_loopback = c.delivery.allow_plain_http_to_loopback;
  auto seconds_of = [](const hpan::config::Period& p) { return p.seconds; };
  o.delivery.concurrency = c.delivery.concurrency;
  o.delivery.per_host = c.delivery.per_host;
  o.delivery.timeout_s = seconds_of(c.delivery.timeout);
  o.delivery.retry_first_s = seconds_of(c.delivery.retry_first);
  o.delivery.retry_max_interval_s = seconds_of(c.delivery.retry_max_interval);
  o.delivery.give_up_after_s = seconds_of(c.delivery.retry_give_up_after);
  o.delivery.smtp_url = c.delivery.smtp_url;
  o.delivery.smtp_from = c.delivery.smtp_from;
  o.delivery.smtp_starttls_required = c.delivery.smtp_starttls != "none";
  o.delivery.smtp_username = c.delivery.smtp_username;
  if (!c.delivery.smtp_password_file.empty()) {
    std::ifstream in(c.delivery.smtp_password_file);
    if (!in) {
      return hpan::make_error("invalid_field", "cannot read " + c.delivery.smtp_password_file,
                              "delivery.smtp.password_file");
    }
    std::getline(in, o.delivery.smtp_password);
  }
  o.delivery.ca_file = c.delivery.tls_ca_file;
  o.escalation_contact = c.reminders.escalation_contact;
  o.review_case_owner = c.reminders.review_case_owner;
  // Reminders fall on calendar days: a period with hours in it would be cut to whole days.
  auto whole_days = [](const hpan::config::Period& p) { return p.seconds % 86400 == 0; };
  for (const auto& p : c.reminders.lead_times)
    if (!whole_days(p)) return hpan::make_error("invalid_field", "lead times are whole days, weeks or months", "reminders.lead_times");
  if (!whole_days(c.reminders.escalate_after))
    return hpan::make_error("invalid_field", "whole days, weeks or months", "reminders.escalate_after");
  for (const auto& [kind, p] : c.reminders.intervals)
    if (!whole_days(p)) return hpan::make_error("invalid_field", "whole days, weeks or months", "reminders.intervals." + kind);
  o.lifecycle.reminders.lead_times.clear();
  for (const auto& p : c.reminders.lead_times) o.lifecycle.reminders.lead_times.push_back(to_alerts(p));
  o.lifecycle.reminders.escalate_after = to_alerts(c.reminders.escalate_after);
  o.lifecycle.reminders.send_hour = std::stoi(c.reminders.send_at.substr(0, 2));
  o.lifecycle.reminders.send_minute = std::stoi(c.reminders.send_at.substr(3, 2));
  o.lifecycle.case_intervals.clear();
  for (const auto& [kind, p] : c.reminders.intervals) o.lifecycle.case_intervals[kind] = to_alerts(p);
  o.delivery.allow_plain_http_to_loopback = c.delivery.allow_plain_http_to_loopback;
  if (const char* off = std::getenv("HPAND_TEST_CLOCK_OFFSET"); off != nullptr && *off != '\0') {
    o.clock_offset = std::chrono::seconds(std::strtoll(off, nullptr, 10));
    spdlog::warn("clock offset {} s from HPAND_TEST_CLOCK_OFFSET (tests only)", o.clock_offset.count());
  }
  o.log_level = c.log.level;
  o.metrics_listen = c.metrics.listen;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hpand: the Healthcare Professional Alert Notice daemon", "hpand"};
  std::string config_path = "/etc/hpand/hpand.yaml";
  std::string check_path;
  bool dump_default = false;
  bool docs = false;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_option("--check-config", check_path, "validate FILE, print ok or every error, and exit (0 ok, 1 errors)");
  app.add_flag("--dump-default-config", dump_default, "print a commented configuration with every default");
  app.add_flag("--config-docs", docs, "print the configuration reference (Markdown)");
  app.set_version_flag("--version", "hpand 0.1.0");
  CLI11_PARSE(app, argc, argv);

  if (dump_default) {
    std::cout << hpan::config::dump_default_config();
    return 0;
  }
  if (docs) {
    std::cout << hpan::config::config_docs_markdown();
    return 0;
  }
  const std::string path = check_path.empty() ? config_path : check_path;
  auto loaded = hpan::config::load_config_file(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return 1;
  }
  if (!check_path.empty()) {
    std::cout << "ok\n";
    return 0;
  }
  const hpan::config::Config& c = *loaded.config;
  hpan::daemon::setup_logging(c.log.level, c.log.format);
  auto options = service_options(c);
  if (!options) {
    spdlog::critical("cannot start: {} ({})", options.error().message, options.error().field);
    return 1;
  }
  // SIGHUP: read the file again; every error is reported and the running configuration stays.
  auto reload = [path]() -> hpan::Result<hpan::daemon::ServiceOptions> {
    auto again = hpan::config::load_config_file(path);
    if (!again.config) {
      std::string all;
      for (const auto& e : again.errors) all += (all.empty() ? "" : "; ") + e.to_string();
      return hpan::make_error("invalid_config", all);
    }
    return service_options(*again.config);
  };
  return hpan::daemon::run_service(*options, reload);
}
