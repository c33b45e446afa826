#include "daemon/delivery_outcome.h"

#include <strings.h>

namespace hpan::daemon {

std::optional<std::int64_t> parse_retry_after_header(std::string_view line) {
  constexpr std::string_view kName = "retry-after:";
  if (line.size() < kName.size() || strncasecmp(line.data(), kName.data(), kName.size()) != 0) return std::nullopt;
  line.remove_prefix(kName.size());
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  if (line.empty() || line.size() > 10) return std::nullopt;
  std::int64_t secs = 0;
  for (char c : line) {
    if (c < '0' || c > '9') return std::nullopt;
    secs = secs * 10 + (c - '0');
  }
  if (secs > 10LL * 366 * 86400) return std::nullopt;
  return secs;
}

TransferOutcome classify_webhook(bool transferred, long status, std::string_view error,
                                 std::optional<std::int64_t> retry_after) {
  const std::string http = "HTTP " + std::to_string(status);
  if (!transferred) return {"retry", printable_detail(error), std::nullopt};
  if (status >= 200 && status < 300) return {"delivered", http, std::nullopt};
  if (status >= 300 && status < 400) return {"dead", http + " (redirects are not followed)", std::nullopt};
  if (status >= 400 && status < 500 && status != 408 && status != 429) return {"dead", http + " (permanent)", std::nullopt};
  if ((status >= 400 && status < 600)) return {"retry", http, retry_after};
  return {"retry", http + " (not an HTTP status hpand understands)", std::nullopt};
}

TransferOutcome classify_smtp(bool sent, bool starttls_refused, long status, std::string_view error) {
  const std::string said = printable_detail(error);
  if (sent) return {"delivered", "SMTP " + std::to_string(status) + " accepted", std::nullopt};
  if (status >= 500 && status < 600)
    return {"dead", printable_detail("SMTP " + std::to_string(status) + " (permanent): " + said), std::nullopt};
  if (starttls_refused) return {"retry", "the SMTP server does not offer STARTTLS, which is required", std::nullopt};
  return {"retry", printable_detail((status ? "SMTP " + std::to_string(status) + ": " : std::string()) + said),
          std::nullopt};
}

std::string printable_detail(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  bool space = false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 0x21 && c <= 0x7E) ? ch : '?';
    if (out.size() >= max) break;
  }
  if (out.size() >= max && max >= 3) out.replace(max - 3, std::string::npos, "...");
  return out;
}

}  // namespace hpan::daemon
