#pragma once
// hpand's runtime: opens the store, loads the keys and the audit log, serves the
// control socket and the metrics on one Asio event loop, delivers, schedules reminders,
// runs the hourly retention sweep, reloads on SIGHUP and stops cleanly on SIGTERM/SIGINT.
// main.cpp builds the options from the configuration.

#include <chrono>
#include <cstdint>
#include <functional>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include "alerts/lifecycle.h"
#include "daemon/delivery_engine.h"
#include "common/role.h"

namespace hpan::daemon {

struct ServiceOptions {
  std::filesystem::path state_dir;
  std::string socket_path;
  mode_t socket_mode = 0660;
  std::string socket_group;  // "" = leave the group as created
  std::vector<RoleRule> roles;
  std::size_t max_request_size = 1 << 20;
  std::filesystem::path signing_key;
  std::filesystem::path keyset;  // "" = <state_dir>/keyset.json
  alerts::LifecycleSettings lifecycle;
  DeliverySettings delivery;
  std::string escalation_contact;  // email addresses and/or a webhook URL; "" = none
  std::string review_case_owner;   // the same; "" = the escalation contact
  std::chrono::seconds clock_offset{0};  // tests only (HPAND_TEST_CLOCK_OFFSET)
  std::string log_level = "info";
  std::string metrics_listen;  // loopback host:port; "" = off
};

// Reads the configuration again (SIGHUP); an error keeps the running configuration.
using ReloadOptions = std::function<Result<ServiceOptions>()>;

// Runs until SIGTERM or SIGINT; SIGHUP reloads. Under systemd: READY=1 once the store is
// open and the control socket listens, STATUS= with queue figures, WATCHDOG=1 from the
// event loop, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM. Returns the exit status: 0
// after a clean stop, 1 when start-up failed (the reason is logged).
int run_service(const ServiceOptions& options, ReloadOptions reload = {});

}  // namespace hpan::daemon
