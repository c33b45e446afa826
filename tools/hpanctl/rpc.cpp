#include <chrono>

#include "tools/control_client.h"
#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

Result<nlohmann::json> rpc(const Options& opts, const std::string& method, const nlohmann::json& params) {
  // One connection per hpanctl process, reused for multi-request commands.
  static std::optional<tools::ControlClient> client;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(opts.timeout_seconds * 1000));
  if (!client) {
    HPAN_TRY_ASSIGN(c, tools::ControlClient::connect(opts.socket, timeout));
    client.emplace(std::move(c));
  }
  return client->call(method, params);
}

}  // namespace hpan::ctl
