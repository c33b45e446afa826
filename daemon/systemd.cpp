#include "daemon/systemd.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace hpan::daemon::systemd {

void notify(const std::string& state) { (void)sd_notify(0, state.c_str()); }

void notify_reloading() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    return std::chrono::microseconds(static_cast<std::int64_t>(usec));
  return std::nullopt;
}

Result<std::optional<int>> listen_fd() {
  const int n = sd_listen_fds(1);  // 1: unset LISTEN_* so children do not inherit them
  if (n < 0) return make_error("bind_failed", std::string("sd_listen_fds: ") + std::strerror(-n));
  if (n == 0) return std::optional<int>();
  if (n > 1)
    return make_error("bind_failed", "systemd passed " + std::to_string(n) + " sockets; hpand takes one (the control socket)");
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0)
    return make_error("bind_failed", "the socket systemd passed is not a listening Unix stream socket");
  return std::optional<int>(fd);
}

}  // namespace hpan::daemon::systemd
