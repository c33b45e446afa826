// The configuration loader: any text gives a configuration or errors that each name a
// place, never a crash or an exception.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto r = hpan::config::load_config_string(text, "fuzz.yaml");
  if (!r.config && r.errors.empty()) std::abort();
  for (const auto& e : r.errors)
    if (e.to_string().empty()) std::abort();
  return 0;
}
