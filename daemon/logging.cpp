#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace hpan::daemon {

namespace {

// "%*": the syslog priority of the message's level (sd-daemon(3) prefixes).
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    char p = '6';
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: p = '7'; break;
      case spdlog::level::info: p = '6'; break;
      case spdlog::level::warn: p = '4'; break;
      case spdlog::level::err: p = '3'; break;
      case spdlog::level::critical: p = '2'; break;
      default: break;
    }
    dest.push_back(p);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto log = spdlog::stderr_logger_st("hpand");
  const bool journal = format == "journal" || (format == "auto" && std::getenv("JOURNAL_STREAM") != nullptr);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (journal)
    formatter->add_flag<JournalPriority>('*').set_pattern("<%*>%n: %v");
  else
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v");
  log->set_formatter(std::move(formatter));
  log->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(log);
  set_log_level(level);
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto log = spdlog::default_logger()->clone(name);
  spdlog::register_logger(log);
  return log;
}

void set_log_level(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

}  // namespace hpan::daemon
