#pragma once
// libcurl's multi interface driven by the Asio event loop (CURLMOPT_SOCKETFUNCTION and
// CURLMOPT_TIMERFUNCTION): one loop, no thread per request, curl's connection cache
// shared by every transfer (connection reuse), global and per-host connection limits.

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace hpan::daemon {

class CurlMulti {
 public:
  // Called once per finished transfer, on the loop's thread. `curl_error` is the generic
  // text of the code; set CURLOPT_ERRORBUFFER on the handle for the details.
  using Done = std::function<void(CURLcode result, const std::string& curl_error)>;

  CurlMulti(boost::asio::io_context& io, long max_total_connections, long max_host_connections);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Starts `easy` (owned by the caller until `done` runs; the caller cleans it up then).
  void add(CURL* easy, Done done);
  // Aborts every transfer; their `done` is not called.
  void abort_all();
  std::size_t running() const;
  void set_limits(long max_total_connections, long max_host_connections);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hpan::daemon
