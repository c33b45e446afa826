#include "daemon/delivery_engine.h"
#include "daemon/delivery_outcome.h"
#include "daemon/logging.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>

#include "alerts/bodies.h"
#include "alerts/delivery_message.h"
#include "daemon/curl_multi.h"
#include "daemon/retry_policy.h"

namespace hpan::daemon {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::int64_t kSafetyPollSeconds = 60;
constexpr std::size_t kMaxPayloadCache = 256;

// One transfer's resources, alive until curl is done with it.
struct Transfer {
  alerts::OutboundDelivery delivery;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  std::string body;  // request body or email data
  std::size_t read_offset = 0;
  char error[CURL_ERROR_SIZE] = {};
  std::optional<std::int64_t> retry_after;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    curl_slist_free_all(recipients);
  }
};

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// Reads Retry-After (seconds form) from response headers.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (auto secs = parse_retry_after_header(std::string_view(data, size * n))) t->retry_after = secs;
  return size * n;
}

std::size_t read_mail(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = std::min(size * n, t->body.size() - t->read_offset);
  std::memcpy(buf, t->body.data() + t->read_offset, len);
  t->read_offset += len;
  return len;
}

}  // namespace

struct DeliveryEngine::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& context, alerts::Outbox& o, alerts::KeyRing& k, const alerts::Clock& c,
       DeliverySettings s, std::function<double()> j)
      : io(context), outbox(o), keys(k), clock(c), settings(std::move(s)), jitter(std::move(j)),
        timer(context), multi(context, settings.concurrency, settings.per_host) {}

  asio::io_context& io;
  alerts::Outbox& outbox;
  alerts::KeyRing& keys;
  const alerts::Clock& clock;
  DeliverySettings settings;
  std::function<double()> jitter;
  asio::steady_timer timer;
  CurlMulti multi;
  std::map<std::string, std::unique_ptr<Transfer>> transfers;  // by delivery id
  std::vector<alerts::AttemptResult> finished;
  std::map<std::pair<std::string, int>, json> payloads;
  bool flush_posted = false;
  bool stopped = false;
  std::shared_ptr<spdlog::logger> log = logger("delivery");

  RetryPolicy policy() const {
    return RetryPolicy(settings.retry_first_s, settings.retry_max_interval_s, settings.give_up_after_s, jitter);
  }

  void schedule(std::int64_t seconds) {
    if (stopped) return;
    timer.expires_after(std::chrono::seconds(std::max<std::int64_t>(seconds, 0)));
    std::weak_ptr<Impl> weak = shared_from_this();
    timer.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->fill();
    });
  }

  // Claims as many due deliveries as there is room for and starts them; then sets the
  // timer for the next one due.
  void fill() {
    if (stopped) return;
    const std::int64_t now = clock.now_unix();
    const int room = settings.concurrency - static_cast<int>(transfers.size());
    if (room > 0) {
      auto claimed = outbox.claim_due(now, room);
      if (!claimed) {
        log->error("cannot claim deliveries: {}", claimed.error().message);
        schedule(5);
        return;
      }
      for (auto& d : *claimed) begin(std::move(d), now);
    }
    auto next = outbox.next_due();
    std::int64_t wait = kSafetyPollSeconds;
    if (next && *next) wait = std::min(wait, **next - now);
    if (static_cast<int>(transfers.size()) >= settings.concurrency) wait = kSafetyPollSeconds;
    schedule(wait);
  }

  const json* payload_for(const alerts::OutboundDelivery& d) {
    const auto key = std::make_pair(d.notice_id, d.version);
    auto it = payloads.find(key);
    if (it != payloads.end()) return &it->second;
    auto p = outbox.payload(d.notice_id, d.version);
    if (!p) return nullptr;
    if (payloads.size() > kMaxPayloadCache) payloads.clear();
    return &payloads.emplace(key, std::move(*p)).first->second;
  }

  // Builds the message and hands the transfer to curl; a message that cannot be built
  // is a permanent failure.
  void begin(alerts::OutboundDelivery d, std::int64_t now) {
    auto t = std::make_unique<Transfer>();
    t->delivery = std::move(d);
    const auto& dv = t->delivery;
    const json* payload = dv.is_notice() ? payload_for(dv) : nullptr;
    if (dv.is_notice() && payload == nullptr) {
      complete(dv, "dead", "the notice version is missing from the store", std::nullopt);
      return;
    }
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, static_cast<long>(settings.timeout_s));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<std::int64_t>(settings.timeout_s, 10)));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, settings.ca_file.c_str());
    if (dv.channel == "webhook") {
      auto req = dv.is_notice() ? alerts::build_webhook(dv, *payload, keys.current(), now)
                                : alerts::build_message_webhook(dv, keys.current(), now);
      if (!req) {
        complete(dv, "dead", req.error().message, std::nullopt);
        return;
      }
      std::string why;
      if (!alerts::acceptable_webhook_url(req->url, settings.allow_plain_http_to_loopback, why)) {
        complete(dv, "dead", "webhook URL refused: " + why, std::nullopt);
        return;
      }
      t->body = std::move(req->body);
      for (const auto& [name, value] : req->headers)
        t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
      t->headers = curl_slist_append(t->headers, "Expect:");
      curl_easy_setopt(e, CURLOPT_URL, req->url.c_str());
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, settings.allow_plain_http_to_loopback ? "http,https" : "https");
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    } else {
      auto mail = dv.is_notice() ? alerts::build_email(dv, *payload, keys.current(), settings.smtp_from, now)
                                 : alerts::build_message_email(dv, settings.smtp_from, now);
      if (!mail) {
        complete(dv, "dead", mail.error().message, std::nullopt);
        return;
      }
      t->body = std::move(mail->data);
      for (const auto& r : mail->recipients) t->recipients = curl_slist_append(t->recipients, ("<" + r + ">").c_str());
      curl_easy_setopt(e, CURLOPT_URL, settings.smtp_url.c_str());
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
      curl_easy_setopt(e, CURLOPT_MAIL_FROM, ("<" + settings.smtp_from + ">").c_str());
      curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->recipients);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, &read_mail);
      curl_easy_setopt(e, CURLOPT_READDATA, t.get());
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
      if (settings.smtp_starttls_required) curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      if (!settings.smtp_username.empty()) {
        curl_easy_setopt(e, CURLOPT_USERNAME, settings.smtp_username.c_str());
        curl_easy_setopt(e, CURLOPT_PASSWORD, settings.smtp_password.c_str());
      }
    }
    const std::string id = dv.delivery_id;
    Transfer* raw = t.get();
    transfers.emplace(id, std::move(t));
    std::weak_ptr<Impl> weak = shared_from_this();
    multi.add(raw->easy, [weak, id](CURLcode code, const std::string& generic) {
      if (auto self = weak.lock()) self->done(id, code, generic);
    });
  }

  // Classifies a finished transfer (DESIGN §4).
  void done(const std::string& id, CURLcode code, const std::string& generic) {
    auto it = transfers.find(id);
    if (it == transfers.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    const std::string detail_error = t->error[0] != '\0' ? t->error : generic;
    const auto& d = t->delivery;
    const TransferOutcome r =
        d.channel == "webhook"
            ? classify_webhook(code == CURLE_OK, status, detail_error, t->retry_after)
            : classify_smtp(code == CURLE_OK, code == CURLE_USE_SSL_FAILED, status, detail_error);
    complete(d, r.outcome, r.detail, r.retry_after);
  }

  // Queues the attempt's result; results are written in one transaction per loop turn.
  void complete(const alerts::OutboundDelivery& d, std::string outcome, std::string detail,
                std::optional<std::int64_t> retry_after) {
    const auto precise = clock.now();
    const std::int64_t now = clock.now_unix();
    alerts::AttemptResult r{d.delivery_id, d.attempts, std::move(outcome), std::move(detail), std::nullopt};
    if (r.outcome == "retry") {
      // Stored times are whole seconds: count the delay from the next whole second, so
      // that neither the backoff nor a server's Retry-After is ever cut short.
      const bool fraction = precise.time_since_epoch() % std::chrono::seconds(1) != std::chrono::seconds(0);
      r.next_attempt_at = policy().next_attempt(d.attempts, d.created_at, now + (fraction ? 1 : 0), retry_after);
      if (!r.next_attempt_at) {
        r.outcome = "dead";
        r.detail += "; gave up after " + std::to_string(settings.give_up_after_s / 3600) + "h";
      }
    }
    if (r.outcome == "dead")
      log->error("delivery {} is dead after {} attempt(s): {}", d.delivery_id, d.attempts, r.detail);
    else
      log->info("delivery {} attempt {}: {}{}", d.delivery_id, d.attempts, r.outcome,
                r.outcome == "delivered" ? "" : " (" + r.detail + ")");
    finished.push_back(std::move(r));
    if (!flush_posted) {
      flush_posted = true;
      std::weak_ptr<Impl> weak = shared_from_this();
      asio::post(io, [weak] {
        if (auto self = weak.lock()) self->flush();
      });
    }
  }

  void flush() {
    flush_posted = false;
    if (finished.empty()) return;
    auto results = std::move(finished);
    finished.clear();
    if (auto st = outbox.record(results, clock.now_unix()); !st) {
      // Not recorded: the rows stay in flight and are sent again after a restart.
      log->error("cannot record {} delivery result(s): {}", results.size(), st.error().message);
    }
    fill();
  }
};

DeliveryEngine::DeliveryEngine(asio::io_context& io, alerts::Outbox& outbox, alerts::KeyRing& keys,
                               const alerts::Clock& clock, DeliverySettings settings,
                               std::function<double()> jitter)
    : impl_(std::make_shared<Impl>(io, outbox, keys, clock, std::move(settings), std::move(jitter))) {}

DeliveryEngine::~DeliveryEngine() { stop(); }

Status DeliveryEngine::start() {
  HPAN_TRY_ASSIGN(n, impl_->outbox.requeue_in_flight(impl_->clock.now_unix()));
  if (n > 0) impl_->log->warn("{} deliveries were in flight at the last stop; sending them again", n);
  impl_->schedule(0);
  return {};
}

void DeliveryEngine::poke() {
  if (!impl_->stopped) impl_->schedule(0);
}

void DeliveryEngine::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->timer.cancel();
  impl_->multi.abort_all();
  impl_->transfers.clear();
  impl_->flush();
  (void)impl_->outbox.requeue_in_flight(impl_->clock.now_unix());
}

void DeliveryEngine::set_settings(const DeliverySettings& settings) {
  impl_->settings = settings;
  impl_->multi.set_limits(settings.concurrency, settings.per_host);
}

std::size_t DeliveryEngine::in_flight() const { return impl_->transfers.size(); }

}  // namespace hpan::daemon
