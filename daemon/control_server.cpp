#include "daemon/control_server.h"
#include "daemon/logging.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

namespace hpan::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;

namespace {

std::string error_line(const json& id, const Error& e) {
  json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  // Replace invalid UTF-8 from the request (a field name) rather than throw.
  return json{{"id", id}, {"error", err}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& context, Options o, Authorise a, Handler h)
      : loop(context), acceptor(io), options(std::move(o)), authorise(std::move(a)), handler(std::move(h)) {}

  // The daemon's event loop: `handler` runs there.
  asio::io_context& loop;
  // The control thread's own loop: the socket, its connections, and the store queries.
  asio::io_context io{1};
  std::thread thread;
  local::acceptor acceptor;
  Options options;
  std::mutex authorise_mutex;  // set_authorise comes from the daemon's loop
  Authorise authorise;
  Handler handler;
  IsQuery is_query;
  Handler query;
  bool bound_path = false;
  bool stopping = false;  // on the control thread
  std::list<std::weak_ptr<local::socket>> sockets;
  std::atomic<std::size_t> open_connections{0};
  std::shared_ptr<spdlog::logger> log = logger("control");

  Result<json> guarded(const Handler& h, const ControlContext& ctx, const ControlRequest& req) {
    try {
      return h(ctx, req);
    } catch (const std::exception& e) {
      log->error("method {} failed: {}", req.method.substr(0, 64), e.what());
      return make_error("internal", "internal error; see the daemon's log");
    }
  }

  // Answers one complete line. A store query runs here, on the control thread; anything
  // else runs on the daemon's loop while this connection waits for it (its next line
  // waits too, so answers keep request order).
  asio::awaitable<std::string> answer(const ControlContext& ctx, std::string_view line) {
    json id;
    auto req = parse_request(line, id);
    if (!req) co_return error_line(id, req.error());
    Result<json> result = make_error("internal", "internal error; see the daemon's log");
    if (query && is_query && is_query(ctx, *req)) {
      result = guarded(query, ctx, *req);
    } else {
      // The loop posts the result back here, where it ends this wait.
      auto timer = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
      auto slot = std::make_shared<std::optional<Result<json>>>();
      std::weak_ptr<Impl> weak = shared_from_this();
      asio::post(loop, [weak, timer, slot, ctx, r = *req] {
        auto self = weak.lock();
        if (!self) return;
        Result<json> out = self->guarded(self->handler, ctx, r);
        asio::post(self->io, [timer, slot, out = std::move(out)]() mutable {
          *slot = std::move(out);
          timer->cancel();
        });
      });
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (slot->has_value()) result = std::move(**slot);
    }
    if (!result) co_return error_line(req->id, result.error());
    co_return json{{"id", req->id}, {"result", *result}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }

  asio::awaitable<void> session(std::shared_ptr<local::socket> sock) {
    ControlContext ctx;
    auto creds = peer_credentials(sock->native_handle());
    if (!creds) {
      log->warn("connection without peer credentials: {}", creds.error().message);
      co_return;
    }
    ctx.peer = std::move(*creds);
    {
      std::lock_guard lock(authorise_mutex);
      ctx.role = authorise ? authorise(ctx.peer) : std::nullopt;
    }
    ++open_connections;
    struct Count {
      std::atomic<std::size_t>& n;
      ~Count() { --n; }
    } count{open_connections};
    std::string line;
    bool discarding = false;
    std::array<char, 65536> data{};
    while (!stopping) {
      boost::system::error_code ec;
      const std::size_t n =
          co_await sock->async_read_some(asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string out;
      std::size_t start = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (data[i] != '\n') continue;
        if (!discarding) line.append(data.data() + start, i - start);
        start = i + 1;
        if (discarding || line.size() > options.max_request_size) {
          out += error_line(nullptr, make_error("request_too_large",
                                                "a request line is limited to " +
                                                    std::to_string(options.max_request_size) + " bytes"));
        } else {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (line.find_first_not_of(" \t") != std::string::npos) out += co_await answer(ctx, line);
        }
        discarding = false;
        line.clear();
      }
      if (!discarding) {
        line.append(data.data() + start, n - start);
        if (line.size() > options.max_request_size) {
          discarding = true;  // drop the rest of this line without keeping it
          line.clear();
          line.shrink_to_fit();
        }
      }
      if (!out.empty()) {
        co_await asio::async_write(*sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
    }
    boost::system::error_code ignored;
    sock->close(ignored);
  }

  asio::awaitable<void> accept_loop() {
    while (!stopping) {
      auto sock = std::make_shared<local::socket>(io);
      boost::system::error_code ec;
      co_await acceptor.async_accept(*sock, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || stopping) co_return;
      if (ec) {
        log->warn("accept failed: {}", ec.message());
        continue;
      }
      sockets.remove_if([](const auto& w) { return w.expired(); });
      sockets.push_back(sock);
      asio::co_spawn(io, session(sock), [this](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log->error("control session ended by an exception: {}", ex.what());
        }
      });
    }
  }
};

ControlServer::ControlServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() { stop(); }

Result<std::unique_ptr<ControlServer>> ControlServer::bind(asio::io_context& io, Options options,
                                                           Authorise authorise, Handler handler) {
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(authorise), std::move(handler));
  Options& o = impl->options;
  boost::system::error_code ec;
  if (o.adopt_fd >= 0) {
    impl->acceptor.assign(local(), o.adopt_fd, ec);
    if (ec) return make_error("bind_failed", "cannot adopt the socket from systemd: " + ec.message());
    return std::unique_ptr<ControlServer>(new ControlServer(impl));
  }
  if (o.path.empty() || o.path.front() != '/' || o.path.size() >= sizeof(sockaddr_un::sun_path))
    return make_error("invalid_path", "the control socket path must be absolute and under 108 bytes",
                      "control.socket");
  const std::filesystem::path path(o.path);
  std::error_code fec;
  if (!std::filesystem::exists(path.parent_path(), fec)) {
    std::filesystem::create_directories(path.parent_path(), fec);
    if (fec) return make_error("bind_failed", "cannot create " + path.parent_path().string() + ": " + fec.message(), "control.socket");
  }
  struct stat st {};
  if (::lstat(o.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error("bind_failed", o.path + " exists and is not a socket", "control.socket");
    local::socket probe(impl->io);
    probe.connect(local::endpoint(o.path), ec);
    if (!ec) return make_error("already_running", "another process is listening on " + o.path, "control.socket");
    ::unlink(o.path.c_str());  // stale: nobody accepts on it
  }
  std::optional<gid_t> gid;
  if (!o.group.empty()) {
    auto g = group_id(o.group);
    if (!g) return std::move(g).error();
    gid = *g;
  }
  impl->acceptor.open(local(), ec);
  if (!ec) {
    const mode_t old_mask = ::umask(0177);  // born 0600, widened below
    impl->acceptor.bind(local::endpoint(o.path), ec);
    ::umask(old_mask);
  }
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("bind_failed", "cannot listen on " + o.path + ": " + ec.message(), "control.socket");
  impl->bound_path = true;
  if (gid && ::chown(o.path.c_str(), static_cast<uid_t>(-1), *gid) != 0)
    return make_error("bind_failed", "cannot give " + o.path + " to group " + o.group + ": " + std::strerror(errno),
                      "control.socket_group");
  if (::chmod(o.path.c_str(), o.mode) != 0)
    return make_error("bind_failed", "cannot set the mode of " + o.path + ": " + std::strerror(errno),
                      "control.socket_mode");
  return std::unique_ptr<ControlServer>(new ControlServer(impl));
}

void ControlServer::start() {
  Impl* impl = impl_.get();
  asio::co_spawn(impl->io, impl->accept_loop(), [impl](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      impl->log->error("control accept loop ended by an exception: {}", ex.what());
    }
  });
  impl->thread = std::thread([impl] { impl->io.run(); });
}

void ControlServer::stop() {
  if (!impl_ || stopped_) return;
  stopped_ = true;
  Impl* impl = impl_.get();
  auto close = [impl] {
    impl->stopping = true;
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    for (auto& w : impl->sockets)
      if (auto s = w.lock()) s->close(ec);
    impl->sockets.clear();
    if (impl->bound_path) ::unlink(impl->options.path.c_str());
  };
  if (impl->thread.joinable()) {
    // Closed on the control thread; then its loop stops, even with a connection still
    // waiting for an answer from the daemon's loop (this thread is that loop).
    std::promise<void> closed;
    asio::post(impl->io, [&] {
      close();
      closed.set_value();
    });
    closed.get_future().wait();
    impl->io.stop();
    impl->thread.join();
  } else {
    close();
  }
}

void ControlServer::set_query_handler(IsQuery is_query, Handler query) {
  impl_->is_query = std::move(is_query);
  impl_->query = std::move(query);
}

void ControlServer::set_authorise(Authorise authorise) {
  std::lock_guard lock(impl_->authorise_mutex);
  impl_->authorise = std::move(authorise);
}

std::size_t ControlServer::connections() const { return impl_->open_connections.load(); }

}  // namespace hpan::daemon
