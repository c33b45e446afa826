#pragma once
// hpand's logs (DESIGN §8): one line per event on stderr, ids never names. Under
// systemd (JOURNAL_STREAM set, or log.format: journal) each line starts with its syslog
// priority, "<6>hpand: ...", which journald reads as the level; elsewhere lines carry a
// UTC timestamp and the level in words.

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace hpan::daemon {

// Sets up the default logger. `format`: auto | journal | plain.
void setup_logging(const std::string& level, const std::string& format);
// A named logger sharing the default one's sink and format, registered so that
// set_log_level reaches it.
std::shared_ptr<spdlog::logger> logger(const std::string& name);
// New level for every logger (config reload).
void set_log_level(const std::string& level);

}  // namespace hpan::daemon
