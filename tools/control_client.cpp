#include "tools/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hpan::tools {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

Result<ControlClient> ControlClient::connect(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path)
    return make_error("connect_failed", "socket path too long: " + path, "socket");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("connect_failed", std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    std::string hint = err == ENOENT ? " (is hpand running?)" : err == EACCES ? " (are you in the hpan-admin group?)" : "";
    return make_error("connect_failed", "cannot connect to " + path + ": " + std::strerror(err) + hint, "socket");
  }
  return ControlClient(fd, timeout);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)), next_id_(other.next_id_) {}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    buffer_ = std::move(other.buffer_);
    next_id_ = other.next_id_;
  }
  return *this;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> ControlClient::read_line() {
  const auto deadline = Clock::now() + timeout_;
  while (true) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return make_error("timeout", "hpand did not answer within the timeout");
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return make_error("timeout", "hpand did not answer within the timeout");
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("disconnected", "hpand closed the connection");
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

Result<json> ControlClient::call(const std::string& method, const json& params) {
  const std::int64_t id = next_id_++;
  std::string line;
  try {
    line = json{{"id", id}, {"method", method}, {"params", params}}.dump() + "\n";
  } catch (const json::exception& e) {
    return make_error("invalid_request", std::string("cannot encode the request: ") + e.what());
  }
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("disconnected", std::string("send: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  HPAN_TRY_ASSIGN(answer_text, read_line());
  json answer = json::parse(answer_text, nullptr, false);
  if (answer.is_discarded() || !answer.is_object())
    return make_error("protocol_error", "hpand answered something that is not a JSON object");
  if (answer.value("id", json()) != json(id))
    return make_error("protocol_error", "hpand answered a different request id");
  if (auto e = answer.find("error"); e != answer.end() && e->is_object()) {
    return make_error(e->value("code", "unknown"), e->value("message", ""), e->value("field", ""));
  }
  if (!answer.contains("result")) return make_error("protocol_error", "the answer has no result");
  return answer["result"];
}

}  // namespace hpan::tools
