#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

namespace hpan::daemon {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence at text[i] (its code point in `cp`), or 0
// when the bytes there are not one: stray continuation bytes, truncated or overlong
// sequences, surrogates, code points past U+10FFFF.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  cp = lead;
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  char32_t min = 0;
  if ((lead & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  cp = lead & (0x7f >> n);
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// "%~": the message, through log_safe (no control characters, one line, bounded).
class SafeMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const bool plain = text.size() <= kMaxLogMessageBytes &&
                       std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (plain) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    const std::string safe = log_safe(text);
    dest.append(safe.data(), safe.data() + safe.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SafeMessage>(); }
};

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

std::string log_safe(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 32);
  std::size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    char32_t cp = 0;
    const std::size_t n = utf8_sequence(text, i, cp);
    if (n == 0 || cp < 0x20 || cp == 0x7f) {
      const auto b = static_cast<unsigned char>(text[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
      i += 1;
    } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
      i += n;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size() - i) + " more bytes)";
  return out;
}

void setup_logging(const std::string& level, const std::string& format) {
  auto log = spdlog::stderr_logger_mt("hpand");  // the query thread logs too
  const bool journal = format == "journal" || (format == "auto" && std::getenv("JOURNAL_STREAM") != nullptr);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<SafeMessage>('~');
  if (journal)
    formatter->add_flag<JournalPriority>('*').set_pattern("<%*>%n: %~");
  else
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %~");
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
