#pragma once
// Prometheus metrics (DESIGN §8): a small HTTP/1.1 server on a loopback address that
// answers GET /metrics with the text exposition format. The figures are rendered on the
// event loop's thread by the caller's function, so they read the store like any request.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace boost::asio {
class io_context;
}

namespace hpan::daemon {

// Control requests by method and outcome (a Prometheus counter).
// Counted from the loop and the query thread.
class RequestCounts {
 public:
  void add(std::string_view method, std::string_view outcome) {
    std::lock_guard lock(mutex_);
    ++counts_[{std::string(method), std::string(outcome)}];
  }
  std::map<std::pair<std::string, std::string>, std::uint64_t> all() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

// A label value escaped for the text format (backslash, quote, newline).
std::string prometheus_label(std::string_view value);

class MetricsServer {
 public:
  // `listen` is "host:port" with a loopback host (127.0.0.0/8, ::1, localhost); anything
  // else is refused (error "invalid_field" naming metrics.listen): the figures are not
  // for the network.
  static Result<std::unique_ptr<MetricsServer>> bind(boost::asio::io_context& io, const std::string& listen,
                                                     std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace hpan::daemon
