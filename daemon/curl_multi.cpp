#include "daemon/curl_multi.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <stdexcept>

namespace hpan::daemon {

namespace asio = boost::asio;

struct CurlMulti::Impl : std::enable_shared_from_this<Impl> {
  // One socket curl asked us to watch: what it wants, and whether a wait is armed.
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> fd;
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    bool reading = false;
    bool writing = false;
  };

  explicit Impl(asio::io_context& context) : io(context), timer(context) {}

  asio::io_context& io;
  asio::steady_timer timer;
  bool timer_armed = false;
  bool timeout_posted = false;
  CURLM* multi = nullptr;
  std::map<curl_socket_t, Watch> watches;
  std::map<CURL*, Done> transfers;
  std::weak_ptr<Impl> self;

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    static_cast<Impl*>(userp)->update_watch(s, what);
    return 0;
  }

  // curl asks for one timer, replacing the previous one, after nearly every socket
  // action. Re-arming an Asio timer each time costs a timerfd_settime per call (7 % of a
  // fan-out's CPU in bench/fanout's profile), so: "now" is a posted call, and a timer
  // that is due no later than curl asks is left alone. A timer that fires early only
  // makes curl check its timeouts once more and ask again, which it allows.
  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* impl = static_cast<Impl*>(userp);
    std::weak_ptr<Impl> weak = impl->self;
    if (timeout_ms < 0) {
      if (impl->timer_armed) impl->timer.cancel();
      impl->timer_armed = false;
      return 0;
    }
    if (timeout_ms == 0) {
      if (!impl->timeout_posted) {
        impl->timeout_posted = true;
        asio::post(impl->io, [weak] {
          auto i = weak.lock();
          if (!i) return;
          i->timeout_posted = false;
          i->action(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return 0;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (impl->timer_armed && impl->timer.expiry() <= deadline) return 0;  // fires early: harmless
    impl->timer.expires_at(deadline);
    impl->timer_armed = true;
    impl->timer.async_wait([weak](const boost::system::error_code& ec) {
      auto i = weak.lock();
      if (ec || !i) return;
      i->timer_armed = false;
      i->action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  void update_watch(curl_socket_t s, int what) {
    if (what == CURL_POLL_REMOVE) {
      auto it = watches.find(s);
      if (it != watches.end()) {
        boost::system::error_code ec;
        it->second.fd->cancel(ec);
        (void)it->second.fd->release();  // curl closes the socket, not us
        watches.erase(it);
      }
      return;
    }
    auto& w = watches[s];
    if (!w.fd) w.fd = std::make_unique<asio::posix::stream_descriptor>(io, s);
    w.want = what;
    arm(s);
  }

  // Starts the waits the socket wants and does not already have.
  void arm(curl_socket_t s) {
    auto it = watches.find(s);
    if (it == watches.end()) return;
    Watch& w = it->second;
    std::weak_ptr<Impl> weak = self;
    if ((w.want & CURL_POLL_IN) && !w.reading) {
      w.reading = true;
      w.fd->async_wait(asio::posix::stream_descriptor::wait_read,
                       [weak, s](const boost::system::error_code& ec) {
                         auto i = weak.lock();
                         if (!i) return;
                         auto wi = i->watches.find(s);
                         if (wi != i->watches.end()) wi->second.reading = false;
                         if (ec == asio::error::operation_aborted) return;
                         i->action(s, ec ? CURL_CSELECT_ERR : CURL_CSELECT_IN);
                       });
    }
    if ((w.want & CURL_POLL_OUT) && !w.writing) {
      w.writing = true;
      w.fd->async_wait(asio::posix::stream_descriptor::wait_write,
                       [weak, s](const boost::system::error_code& ec) {
                         auto i = weak.lock();
                         if (!i) return;
                         auto wi = i->watches.find(s);
                         if (wi != i->watches.end()) wi->second.writing = false;
                         if (ec == asio::error::operation_aborted) return;
                         i->action(s, ec ? CURL_CSELECT_ERR : CURL_CSELECT_OUT);
                       });
    }
  }

  // Tells curl a socket (or the timeout) is ready, then finishes completed transfers
  // and re-arms the socket if curl still wants it.
  void action(curl_socket_t s, int mask) {
    int running = 0;
    curl_multi_socket_action(multi, s, mask, &running);
    finish_done();
    if (s != CURL_SOCKET_TIMEOUT) arm(s);
  }

  void finish_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode result = msg->data.result;
      const std::string error = curl_easy_strerror(result);
      curl_multi_remove_handle(multi, easy);
      auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      Done done = std::move(it->second);
      transfers.erase(it);
      done(result, error);
    }
  }
};

CurlMulti::CurlMulti(asio::io_context& io, long max_total, long max_host)
    : impl_(std::make_shared<Impl>(io)) {
  impl_->self = impl_;
  impl_->multi = curl_multi_init();
  if (impl_->multi == nullptr) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(impl_->multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(impl_->multi, CURLMOPT_SOCKETDATA, impl_.get());
  curl_multi_setopt(impl_->multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
  curl_multi_setopt(impl_->multi, CURLMOPT_TIMERDATA, impl_.get());
  set_limits(max_total, max_host);
}

CurlMulti::~CurlMulti() {
  abort_all();
  curl_multi_cleanup(impl_->multi);
}

void CurlMulti::set_limits(long max_total, long max_host) {
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, max_total);
}

void CurlMulti::add(CURL* easy, Done done) {
  impl_->transfers.emplace(easy, std::move(done));
  curl_multi_add_handle(impl_->multi, easy);  // curl calls on_timer; the loop does the rest
}

void CurlMulti::abort_all() {
  for (auto& [easy, done] : impl_->transfers) curl_multi_remove_handle(impl_->multi, easy);
  impl_->transfers.clear();
  impl_->timer.cancel();
}

std::size_t CurlMulti::running() const { return impl_->transfers.size(); }

}  // namespace hpan::daemon
