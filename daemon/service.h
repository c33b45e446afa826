#pragma once
// hpand's runtime: opens the store, loads the keys and the audit log, serves the
// control socket on one Asio event loop, runs the hourly retention sweep, and stops
// cleanly on SIGTERM/SIGINT. main.cpp builds the options from the configuration.

#include <chrono>
#include <cstdint>
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
};

// Runs until SIGTERM or SIGINT. Returns the process exit status: 0 after a clean stop,
// 1 when start-up failed (the reason is logged).
int run_service(const ServiceOptions& options);

}  // namespace hpan::daemon
