#pragma once
// How a finished transfer is judged (DESIGN §4), apart from libcurl so that it can be
// unit-tested and fuzzed: what a webhook's status and headers or an SMTP server's
// reply mean, and the text kept of them. A remote server's words reach the store, the
// audit log and the log only as printable ASCII, at most kMaxDetail bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hpan::daemon {

inline constexpr std::size_t kMaxDetail = 300;

struct TransferOutcome {
  std::string outcome;  // delivered | retry | dead
  std::string detail;
  std::optional<std::int64_t> retry_after;  // seconds, from the server
};

// "Retry-After: 120" (a response header line, any case, CRLF or not): the seconds, when
// the line is that header in its delta-seconds form (0 to 10 years). HTTP dates and
// anything else give nothing.
std::optional<std::int64_t> parse_retry_after_header(std::string_view line);

// A webhook: `transferred` when curl completed the exchange (then `status` is the HTTP
// status), otherwise `error` says why. 2xx delivered; 408, 429 and 5xx retried (429 and
// 503 with Retry-After); other 4xx and 3xx dead; transport errors retried.
TransferOutcome classify_webhook(bool transferred, long status, std::string_view error,
                                 std::optional<std::int64_t> retry_after);

// An email: `sent` when the server accepted the message; otherwise a 5xx reply is
// permanent, anything else (4xx, a dropped connection, no STARTTLS) is retried.
TransferOutcome classify_smtp(bool sent, bool starttls_refused, long status, std::string_view error);

// Printable ASCII only (others become '?'), whitespace runs as one space, trimmed, at
// most `max` bytes (then ending in "...").
std::string printable_detail(std::string_view text, std::size_t max = kMaxDetail);

}  // namespace hpan::daemon
