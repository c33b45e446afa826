// What a webhook receiver or SMTP server sends back: header lines and reply text of any
// bytes. Retry-After is a bounded number or nothing; the detail kept is printable ASCII
// of bounded length.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/delivery_outcome.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = hpan::daemon::parse_retry_after_header(text); s && (*s < 0 || *s > 10LL * 366 * 86400)) std::abort();
  const long status = size >= 2 ? (data[0] << 8 | data[1]) % 1000 : 0;
  for (const auto& r : {hpan::daemon::classify_webhook(size % 2 == 0, status, text, 5),
                        hpan::daemon::classify_smtp(size % 3 == 0, size % 5 == 0, status, text)}) {
    if (r.outcome != "delivered" && r.outcome != "retry" && r.outcome != "dead") std::abort();
    if (r.detail.size() > hpan::daemon::kMaxDetail + 80) std::abort();
    for (char c : r.detail)
      if (c < 0x20 || c > 0x7E) std::abort();
  }
  return 0;
}
