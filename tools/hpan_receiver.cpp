// hpan-receiver: a recording webhook receiver (Boost.Beast) for tests and the demo.
// It listens on loopback, over HTTP or HTTPS, writes every request as one JSON line
// ({"path","headers","body","answer","at"}) to --log, and answers per path as told:
//   POST /_control {"path": "/busy", "answers": ["busy", "busy", "ok"]}
// answers: ok (204), gone (410), bad (400), busy (503), slow429 (429, Retry-After: 2),
// hang (no answer for --hang seconds, then close), close (close without answering).
// The last answer of a list sticks. It prints the port it listens on.
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
// Asio is compiled once in hpan_daemon; its TLS part is compiled here, its only user.
#include <boost/asio/ssl/impl/src.hpp>
#include <CLI/CLI.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

struct State {
  std::map<std::string, std::deque<std::string>> answers;  // by path
  std::ofstream log;
  int hang_seconds = 8;

  std::string next_answer(const std::string& path) {
    auto it = answers.find(path);
    if (it == answers.end() || it->second.empty()) return "ok";
    std::string a = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return a;
  }
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Serves requests on one connection until it closes (plain or TLS stream).
template <class Stream>
asio::awaitable<void> serve(Stream& stream, State& state) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const std::string path(req.target());
    http::response<http::string_body> res{http::status::no_content, req.version()};
    res.keep_alive(req.keep_alive());
    if (path == "/_control") {
      const json c = json::parse(req.body(), nullptr, false);
      if (c.is_object() && c.contains("path") && c.contains("answers")) {
        auto& q = state.answers[c["path"].get<std::string>()];
        q.clear();
        for (const auto& a : c["answers"]) q.push_back(a.get<std::string>());
      } else {
        res.result(http::status::bad_request);
      }
    } else {
      const std::string answer = state.next_answer(path);
      json headers = json::object();
      for (const auto& f : req) headers[beast::string_view(f.name_string()).to_string()] = std::string(f.value());
      json rec = {{"path", path}, {"headers", json::object()}, {"body", req.body()}, {"answer", answer},
                  {"at", now_seconds()}};
      for (const auto& [k, v] : headers.items()) {
        std::string lower = k;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        rec["headers"][lower] = v;
      }
      state.log << rec.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
      if (answer == "close") co_return;
      if (answer == "hang") {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(state.hang_seconds));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
      static const std::map<std::string, http::status> codes = {
          {"ok", http::status::no_content}, {"gone", http::status::gone},
          {"bad", http::status::bad_request}, {"busy", http::status::service_unavailable},
          {"slow429", http::status::too_many_requests}};
      auto code = codes.find(answer);
      res.result(code == codes.end() ? http::status::no_content : code->second);
      if (answer == "slow429") res.set(http::field::retry_after, "2");
    }
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> session(tcp::socket socket, State& state, asio::ssl::context* tls) {
  if (tls == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(stream, state);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await serve(stream, state);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, State& state, asio::ssl::context* tls) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), state, tls), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hpan-receiver: a recording webhook receiver for tests and demos (loopback only)",
               "hpan-receiver"};
  std::string address = "127.0.0.1";
  unsigned short port = 0;
  std::string log_path, cert, key, port_file;
  State state;
  app.add_option("--address", address, "loopback address to listen on")->capture_default_str();
  app.add_option("--port", port, "port (0 = any free one)")->capture_default_str();
  app.add_option("--log", log_path, "file that receives one JSON line per request")->required();
  app.add_option("--port-file", port_file, "write the port here once listening");
  app.add_option("--tls-cert", cert, "certificate chain (PEM): serve HTTPS");
  app.add_option("--tls-key", key, "private key (PEM)");
  app.add_option("--hang", state.hang_seconds, "seconds a 'hang' answer waits")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto ip = asio::ip::make_address(address);
  if (!ip.is_loopback()) {
    std::cerr << "hpan-receiver: listens on loopback only\n";
    return 2;
  }
  state.log.open(log_path, std::ios::app);
  if (!state.log) {
    std::cerr << "hpan-receiver: cannot write " << log_path << "\n";
    return 1;
  }
  asio::io_context io(1);
  std::unique_ptr<asio::ssl::context> tls;
  if (!cert.empty()) {
    tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->use_certificate_chain_file(cert);
    tls->use_private_key_file(key, asio::ssl::context::pem);
  }
  tcp::acceptor acceptor(io, tcp::endpoint(ip, port));
  const auto bound = acceptor.local_endpoint().port();
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << bound << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::cout << bound << std::endl;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(acceptor, state, tls.get()), asio::detached);
  io.run();
  return 0;
}
