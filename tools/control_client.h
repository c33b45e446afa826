#pragma once
// A blocking client for hpand's control socket (no Asio): connect, send one JSON line,
// read one JSON line, with a timeout. Used by hpanctl and by tests.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace hpan::tools {

class ControlClient {
 public:
  // Error code "connect_failed" (naming the path and the cause).
  static Result<ControlClient> connect(const std::string& path, std::chrono::milliseconds timeout);
  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&& other) noexcept;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  // Sends {"id", "method", "params"} and returns the result, the server's error
  // (code, message, field), or a local error: "timeout", "disconnected", "protocol_error".
  Result<nlohmann::json> call(const std::string& method, const nlohmann::json& params);

 private:
  ControlClient(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  Result<std::string> read_line();
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::int64_t next_id_ = 1;
};

}  // namespace hpan::tools
