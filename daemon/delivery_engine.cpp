#include "daemon/delivery_engine.h"
#include "daemon/delivery_outcome.h"
#include "daemon/logging.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <map>
#include <thread>

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
// Deliveries handed to a builder thread at a time: small enough that curl gets the first
// requests soon, large enough that the hand-offs cost little.
constexpr std::size_t kBuildChunk = 16;
// How long a finished attempt may wait to be recorded with others.
constexpr auto kFlushDelay = std::chrono::milliseconds(3);

// One transfer's resources, alive until curl is done with it.
struct Transfer {
  alerts::OutboundDelivery delivery;
  std::string host;  // the per-host limit's key
  std::shared_ptr<const json> payload;  // the notice version's payload base; null for messages
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  std::string body;  // request body or email data
  std::string url;
  std::size_t read_offset = 0;
  char error[CURL_ERROR_SIZE] = {};
  std::optional<std::int64_t> retry_after;
  std::string build_error;  // set when the message cannot be built: the delivery is dead

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

// Which per-host limit a delivery counts against: its webhook's host, or the SMTP relay.
std::string host_key(const std::string& channel, const std::string& address) {
  return channel == "webhook" ? "https " + alerts::url_host(address) : "smtp";
}

// Builds the signed, sealed message and sets up its curl handle. Runs on a builder
// thread: it touches only the transfer, the payload (read-only, shared), the signing key
// (read-only; KeyRing never drops a key while hpand runs) and its own copy of the settings.
void build(Transfer& t, const crypto::SigningKey& key, const DeliverySettings& settings, std::int64_t now) {
  const auto& dv = t.delivery;
  if (dv.is_notice() && t.payload == nullptr) {
    t.build_error = "the notice version is missing from the store";
    return;
  }
  if (dv.channel == "webhook") {
    auto req = dv.is_notice() ? alerts::build_webhook(dv, *t.payload, key, now)
                              : alerts::build_message_webhook(dv, key, now);
    if (!req) {
      t.build_error = req.error().message;
      return;
    }
    std::string why;
    if (!alerts::acceptable_webhook_url(req->url, settings.allow_plain_http_to_loopback, why)) {
      t.build_error = "webhook URL refused: " + why;
      return;
    }
    t.body = std::move(req->body);
    t.url = std::move(req->url);
    for (const auto& [name, value] : req->headers)
      t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
    t.headers = curl_slist_append(t.headers, "Expect:");
  } else {
    auto mail = dv.is_notice() ? alerts::build_email(dv, *t.payload, key, settings.smtp_from, now)
                               : alerts::build_message_email(dv, settings.smtp_from, now);
    if (!mail) {
      t.build_error = mail.error().message;
      return;
    }
    t.body = std::move(mail->data);
    for (const auto& r : mail->recipients) t.recipients = curl_slist_append(t.recipients, ("<" + r + ">").c_str());
  }
  t.easy = curl_easy_init();
  CURL* e = t.easy;
  if (e == nullptr) {
    t.build_error = "curl_easy_init failed";
    return;
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, static_cast<long>(settings.timeout_s));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<std::int64_t>(settings.timeout_s, 10)));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, settings.ca_file.c_str());
  if (dv.channel == "webhook") {
    curl_easy_setopt(e, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, settings.allow_plain_http_to_loopback ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  } else {
    curl_easy_setopt(e, CURLOPT_URL, settings.smtp_url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, ("<" + settings.smtp_from + ">").c_str());
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t.recipients);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &read_mail);
    curl_easy_setopt(e, CURLOPT_READDATA, &t);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    if (settings.smtp_starttls_required) curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!settings.smtp_username.empty()) {
      curl_easy_setopt(e, CURLOPT_USERNAME, settings.smtp_username.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, settings.smtp_password.c_str());
    }
  }
}

unsigned builder_threads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp(cores > 1 ? cores - 1 : 1u, 1u, 4u);
}

}  // namespace

struct DeliveryEngine::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& context, alerts::Outbox& o, alerts::KeyRing& k, const alerts::Clock& c,
       DeliverySettings s, std::function<double()> j)
      : io(context), outbox(o), keys(k), clock(c), settings(std::move(s)), jitter(std::move(j)),
        timer(context), multi(context, settings.concurrency, settings.per_host), builders(builder_threads()),
        flush_timer(context) {}

  asio::io_context& io;
  alerts::Outbox& outbox;
  alerts::KeyRing& keys;
  const alerts::Clock& clock;
  DeliverySettings settings;
  std::function<double()> jitter;
  asio::steady_timer timer;
  CurlMulti multi;
  // Sealing and signing (the crypto floor's work) run here, off the event loop, so
  // that the loop is free for curl, SQLite and control requests.
  asio::thread_pool builders;
  // A claimed delivery is with a builder, then ready, then in curl. Up to as many again
  // as curl may send are claimed and built ahead, so that a finished transfer's slot is
  // filled at once and the builders never wait for the loop.
  std::size_t building = 0;
  std::deque<std::unique_ptr<Transfer>> ready;                 // built, in claim order
  std::map<std::string, std::unique_ptr<Transfer>> transfers;  // in curl, by delivery id
  std::map<std::string, int> host_busy;                        // claimed, per host key
  std::map<std::string, int> host_sending;                     // in curl, per host key
  std::vector<alerts::AttemptResult> finished;
  std::map<std::pair<std::string, int>, std::shared_ptr<const json>> payloads;
  asio::steady_timer flush_timer;
  bool flush_posted = false;
  bool flush_armed = false;
  bool stopped = false;
  std::shared_ptr<spdlog::logger> log = logger("delivery");

  RetryPolicy policy() const {
    return RetryPolicy(settings.retry_first_s, settings.retry_max_interval_s, settings.give_up_after_s, jitter);
  }

  std::size_t busy() const { return building + ready.size() + transfers.size(); }
  int claim_limit() const { return 2 * settings.concurrency; }
  int host_claim_limit() const { return 2 * settings.per_host; }

  void schedule(std::int64_t seconds) {
    if (stopped) return;
    timer.expires_after(std::chrono::seconds(std::max<std::int64_t>(seconds, 0)));
    std::weak_ptr<Impl> weak = shared_from_this();
    timer.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->fill();
    });
  }

  // Records finished attempts and claims as many due deliveries as there is room for,
  // within the per-host limit, in one transaction; hands the claimed ones to the
  // builders; then sets the timer for the next one due. When due rows were left behind
  // (no room, or their host is full), the next finished transfer claims again.
  void settle(std::vector<alerts::AttemptResult> results) {
    const std::int64_t now = clock.now_unix();
    const int room = stopped ? 0 : claim_limit() - static_cast<int>(busy());
    std::map<std::string, int> taking;
    auto accept = [&](const std::string& channel, const std::string& address) {
      const std::string host = host_key(channel, address);
      if (host_load(host) + taking[host] >= host_claim_limit()) return false;
      ++taking[host];
      return true;
    };
    auto claimed = outbox.settle(results, now, room, accept);
    if (!claimed) {
      // Not recorded: the rows stay in flight and are sent again after a restart.
      log->error("cannot record {} delivery result(s) or claim more: {}", results.size(), claimed.error().message);
      schedule(5);
      return;
    }
    if (stopped) return;
    start_building(std::move(*claimed), now);
    // The next wake-up: the earliest delivery that could start, i.e. not one whose host
    // is full (a finished transfer claims again anyway). With every slot taken, only a
    // finished transfer can make room.
    std::int64_t wait = kSafetyPollSeconds;
    if (claim_limit() > static_cast<int>(busy())) {
      auto next = outbox.next_due([&](const std::string& channel, const std::string& address) {
        return host_load(host_key(channel, address)) < host_claim_limit();
      });
      if (next && *next) wait = std::min(wait, **next - now);
    }
    schedule(wait);
  }

  int host_load(const std::string& host) const {
    auto it = host_busy.find(host);
    return it == host_busy.end() ? 0 : it->second;
  }

  static void release(std::map<std::string, int>& counts, const std::string& host) {
    if (auto h = counts.find(host); h != counts.end() && --h->second <= 0) counts.erase(h);
  }

  void fill() {
    if (!stopped) settle({});
  }

  std::shared_ptr<const json> payload_for(const alerts::OutboundDelivery& d) {
    const auto key = std::make_pair(d.notice_id, d.version);
    auto it = payloads.find(key);
    if (it != payloads.end()) return it->second;
    auto p = outbox.payload(d.notice_id, d.version);
    if (!p) return nullptr;
    if (payloads.size() > kMaxPayloadCache) payloads.clear();
    return payloads.emplace(key, std::make_shared<const json>(std::move(*p))).first->second;
  }

  // Hands claimed deliveries to the builders in chunks; each chunk comes back to the
  // loop to be sent.
  void start_building(std::vector<alerts::OutboundDelivery> claimed, std::int64_t now) {
    // The current key, taken on the loop (where rotation happens): a rotation after this
    // point applies to the next claim. KeyRing keeps every key it loaded or made until
    // hpand exits, and the builders are joined before the KeyRing goes.
    const crypto::SigningKey* key = &keys.current();
    auto chunk = std::make_shared<std::vector<std::unique_ptr<Transfer>>>();
    std::weak_ptr<Impl> weak = shared_from_this();
    auto hand_off = [&] {
      if (chunk->empty()) return;
      building += chunk->size();
      asio::post(builders, [weak, chunk, key, s = settings, now, &loop = io] {
        for (auto& t : *chunk) build(*t, *key, s, now);
        asio::post(loop, [weak, chunk] {
          if (auto self = weak.lock()) self->built(std::move(*chunk));
        });
      });
      chunk = std::make_shared<std::vector<std::unique_ptr<Transfer>>>();
    };
    for (auto& d : claimed) {
      auto t = std::make_unique<Transfer>();
      t->delivery = std::move(d);
      t->host = host_key(t->delivery.channel, t->delivery.address);
      ++host_busy[t->host];
      if (t->delivery.is_notice()) t->payload = payload_for(t->delivery);
      chunk->push_back(std::move(t));
      if (chunk->size() >= kBuildChunk) hand_off();
    }
    hand_off();
  }

  // Back on the loop: built transfers join the ready queue; one that could not be built
  // is dead.
  void built(std::vector<std::unique_ptr<Transfer>> chunk) {
    if (stopped) return;  // stop() put them back to pending
    building -= chunk.size();
    for (auto& t : chunk) {
      if (!t->build_error.empty()) {
        complete(t->delivery, t->host, "dead", t->build_error, std::nullopt);
        continue;
      }
      ready.push_back(std::move(t));
    }
    start_ready();
  }

  // Hands ready transfers to curl, oldest first, while there are slots, skipping those
  // whose host already has per_host transfers.
  void start_ready() {
    std::weak_ptr<Impl> weak = shared_from_this();
    for (auto it = ready.begin(); it != ready.end() && static_cast<int>(transfers.size()) < settings.concurrency;) {
      if (host_sending[(*it)->host] >= settings.per_host) {
        ++it;
        continue;
      }
      std::unique_ptr<Transfer> t = std::move(*it);
      it = ready.erase(it);
      ++host_sending[t->host];
      const std::string id = t->delivery.delivery_id;
      CURL* easy = t->easy;
      transfers.emplace(id, std::move(t));
      multi.add(easy, [weak, id](CURLcode code, const std::string& generic) {
        if (auto self = weak.lock()) self->done(id, code, generic);
      });
    }
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
    release(host_sending, t->host);
    complete(d, t->host, r.outcome, r.detail, r.retry_after);
    start_ready();
  }

  // Frees the delivery's place and queues the attempt's result; results are written in
  // one transaction per loop turn.
  void complete(const alerts::OutboundDelivery& d, const std::string& host, std::string outcome,
                std::string detail, std::optional<std::int64_t> retry_after) {
    release(host_busy, host);
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
    // Results wait a moment to be written together (one commit, one fsync, for many),
    // unless half the slots are waiting for them.
    std::weak_ptr<Impl> weak = shared_from_this();
    if (static_cast<int>(finished.size()) * 2 >= settings.concurrency && !flush_posted) {
      flush_posted = true;
      asio::post(io, [weak] {
        if (auto self = weak.lock()) self->flush();
      });
    } else if (!flush_armed) {
      flush_armed = true;
      flush_timer.expires_after(kFlushDelay);
      flush_timer.async_wait([weak](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->flush();
      });
    }
  }

  void flush() {
    flush_posted = false;
    if (flush_armed) {
      flush_armed = false;
      flush_timer.cancel();
    }
    if (finished.empty()) return;
    auto results = std::move(finished);
    finished.clear();
    settle(std::move(results));
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
  impl_->flush_timer.cancel();
  impl_->builders.join();  // chunks being built come back to a stopped engine and are dropped
  impl_->multi.abort_all();
  impl_->transfers.clear();
  impl_->ready.clear();
  impl_->building = 0;
  impl_->host_busy.clear();
  impl_->host_sending.clear();
  impl_->flush();
  (void)impl_->outbox.requeue_in_flight(impl_->clock.now_unix());
}

void DeliveryEngine::set_settings(const DeliverySettings& settings) {
  impl_->settings = settings;
  impl_->multi.set_limits(settings.concurrency, settings.per_host);
}

std::size_t DeliveryEngine::in_flight() const { return impl_->busy(); }

}  // namespace hpan::daemon
