// The control protocol's request parser: any line gives a request or a protocol error,
// never a crash, and a request always has a method and an object for params.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/control_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)hpan::daemon::json_depth_within(line, hpan::daemon::kMaxJsonDepth);
  nlohmann::json id;
  auto r = hpan::daemon::parse_request(line, id);
  if (r.ok() && (r->method.empty() || !r->params.is_object())) std::abort();
  if (!r.ok() && r.error().code != "parse_error" && r.error().code != "invalid_request") std::abort();
  return 0;
}
