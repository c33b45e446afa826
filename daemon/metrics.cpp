#include "daemon/metrics.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace hpan::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string prometheus_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

// One connection: read a request (8 KiB at most, 10 s), answer, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<std::function<std::string()>> render,
          std::shared_ptr<int> open_sessions)
      : stream_(std::move(socket)), render_(std::move(render)), open_(std::move(open_sessions)) {
    ++*open_;
  }
  ~Session() { --*open_; }

  void run() {
    parser_.header_limit(8192);
    parser_.body_limit(0);
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) return;  // closed, timed out or malformed: nothing to answer
    const auto& req = parser_.get();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version());
    res->keep_alive(false);
    res->set(http::field::server, "hpand");
    if (req.target() != "/metrics") {
      res->result(http::status::not_found);
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = "not found: try /metrics\n";
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->set(http::field::allow, "GET, HEAD");
    } else {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (req.method() == http::verb::get) res->body() = (*render_)();
    }
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  std::shared_ptr<std::function<std::string()>> render_;  // shared: a session may outlive the server
  std::shared_ptr<int> open_;
};

// At most this many scrapes at once; more are closed unanswered.
constexpr int kMaxSessions = 8;

bool loopback(const asio::ip::address& a) { return a.is_loopback(); }

}  // namespace

struct MetricsServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::function<std::string()> r)
      : acceptor(io), backoff(io), render(std::make_shared<std::function<std::string()>>(std::move(r))) {}
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::shared_ptr<std::function<std::string()>> render;
  std::shared_ptr<int> open_sessions = std::make_shared<int>(0);
  bool stopped = false;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (self->stopped) return;
      if (ec) {
        // Out of file descriptors or the like: try again in a second, not in a busy loop.
        spdlog::warn("metrics: accept failed: {}", ec.message());
        self->backoff.expires_after(std::chrono::seconds(1));
        self->backoff.async_wait([self](beast::error_code wec) {
          if (!wec && !self->stopped) self->accept();
        });
        return;
      }
      if (*self->open_sessions < kMaxSessions)
        std::make_shared<Session>(std::move(socket), self->render, self->open_sessions)->run();
      self->accept();
    });
  }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::bind(asio::io_context& io, const std::string& listen,
                                                           std::function<std::string()> render) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error("invalid_field", "expected host:port", "metrics.listen");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec || !loopback(address))
    return make_error("invalid_field", "metrics listen only on a loopback address, not " + listen, "metrics.listen");
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (port > 65535) return make_error("invalid_field", "bad port in " + listen, "metrics.listen");
  auto impl = std::make_shared<Impl>(io, std::move(render));
  const tcp::endpoint ep(address, static_cast<std::uint16_t>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("bind_failed", "cannot listen on " + listen + " for metrics: " + ec.message(), "metrics.listen");
  return std::unique_ptr<MetricsServer>(new MetricsServer(impl));
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() { impl_->accept(); }

void MetricsServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->backoff.cancel();
}

std::uint16_t MetricsServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace hpan::daemon
