#pragma once
// The control socket (DESIGN §6): a Unix stream socket speaking newline-delimited
// JSON. It runs on a control thread of its own: one coroutine per connection; requests
// on a connection are answered in order; protocol errors are answered and the
// connection survives. The handler (Dispatcher) decides everything about methods and
// runs on the daemon's loop; store queries may be answered on the control thread, so
// that they never wait behind the loop's work. Asio stays out of this header.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/role.h"
#include "daemon/peer_credentials.h"

namespace boost::asio {
class io_context;
}

namespace hpan::daemon {

struct ControlContext {
  PeerCredentials peer;
  std::optional<Role> role;  // resolved at connection time
};

struct ControlRequest {
  nlohmann::json id;  // string, number or null; echoed back
  std::string method;
  nlohmann::json params;  // always an object
};

// Limits of the line protocol.
inline constexpr int kMaxJsonDepth = 64;

// Checks one request line without recursion: nesting depth (outside strings) at most
// kMaxJsonDepth. Returns false when deeper.
bool json_depth_within(std::string_view line, int max_depth);

// Parses one request line into a ControlRequest, or the protocol error to answer
// (codes parse_error, invalid_request). Exposed for tests and fuzzing.
Result<ControlRequest> parse_request(std::string_view line, nlohmann::json& id_out);

class ControlServer {
 public:
  struct Options {
    std::string path;                        // absolute, < 108 bytes
    mode_t mode = 0660;
    std::string group;                       // "" = leave as created
    std::size_t max_request_size = 1 << 20;  // bytes per line
    int adopt_fd = -1;                       // an already-listening socket (systemd)
  };
  using Authorise = std::function<std::optional<Role>(const PeerCredentials&)>;
  using Handler = std::function<Result<nlohmann::json>(const ControlContext&, const ControlRequest&)>;
  // Requests answered on the control thread itself (not on the daemon's loop): those
  // `is_query` picks, by the query handler.
  using IsQuery = std::function<bool(const ControlContext&, const ControlRequest&)>;

  // Binds (or adopts) the socket. Error codes: "already_running", "bind_failed",
  // "unknown_group", "invalid_path".
  static Result<std::unique_ptr<ControlServer>> bind(boost::asio::io_context& io, Options options,
                                                     Authorise authorise, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Starts the control thread, which accepts and reads requests; `handler` runs on the
  // daemon's loop (the io_context given to bind), the query handler on the control thread.
  void start();
  // Stops accepting, closes every connection, removes the socket file if it bound it, and
  // joins the control thread. Call it from the daemon's loop (or with the loop stopped).
  void stop();
  // Set before start().
  void set_query_handler(IsQuery is_query, Handler query);
  // Replaces how peers get their role (config reload); new connections use it.
  void set_authorise(Authorise authorise);
  std::size_t connections() const;

 private:
  struct Impl;
  explicit ControlServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  bool stopped_ = false;
};

}  // namespace hpan::daemon
