#pragma once
// hpand's logs (DESIGN §8): one line per event on stderr, ids never names. Under
// systemd (JOURNAL_STREAM set, or log.format: journal) each line starts with its syslog
// priority, "<6>hpand: ...", which journald reads as the level; elsewhere lines carry a
// UTC timestamp and the level in words. Whatever a message holds, it stays one line:
// control characters, C1, U+2028/U+2029 and bytes that are not UTF-8 are written as
// escapes, and a message is cut at kMaxLogMessageBytes.

#include <spdlog/logger.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hpan::daemon {

inline constexpr std::size_t kMaxLogMessageBytes = 2048;

// `text` made safe for one log line: C0 controls and DEL as \xNN, C1 and U+2028/U+2029
// as \uNNNN, bytes that are not UTF-8 as \xNN; after `max_bytes` of `text`, "..." and
// how many bytes were left out. Every log message goes through this; call it directly
// to bound a value the caller chose (a method name) more tightly.
std::string log_safe(std::string_view text, std::size_t max_bytes = kMaxLogMessageBytes);

// Sets up the default logger. `format`: auto | journal | plain.
void setup_logging(const std::string& level, const std::string& format);
// A named logger sharing the default one's sink and format, registered so that
// set_log_level reaches it.
std::shared_ptr<spdlog::logger> logger(const std::string& name);
// New level for every logger (config reload).
void set_log_level(const std::string& level);

}  // namespace hpan::daemon
