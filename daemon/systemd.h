#pragma once
// The service manager's side channels (sd-daemon(3)): readiness and status
// notifications, the watchdog, and sockets passed by socket activation. Each is a no-op
// when hpand does not run under systemd (no NOTIFY_SOCKET, no LISTEN_FDS).

#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"

namespace hpan::daemon::systemd {

// Sends one notification ("READY=1", "STATUS=...", ...). Best effort.
void notify(const std::string& state);
// "RELOADING=1" with the MONOTONIC_USEC systemd 253+ asks for.
void notify_reloading();
// The watchdog interval systemd expects pings within (WATCHDOG_USEC), if enabled.
std::optional<std::chrono::microseconds> watchdog_interval();
// The listening socket passed by socket activation (LISTEN_FDS/LISTEN_PID), if any.
// Refuses more than one socket or one that is not a listening Unix stream socket.
Result<std::optional<int>> listen_fd();

}  // namespace hpan::daemon::systemd
