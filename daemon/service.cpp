#include "daemon/service.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

#include "alerts/audit_log.h"
#include "alerts/key_ring.h"
#include "alerts/calendar.h"
#include "alerts/reminders.h"
#include "alerts/store.h"
#include "crypto/encoding.h"
#include "daemon/authoriser.h"
#include "daemon/control_server.h"
#include "daemon/delivery_engine.h"
#include "daemon/dispatcher.h"
#include "daemon/reminder_scheduler.h"
#include <random>

namespace hpan::daemon {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr auto kPurgeInterval = std::chrono::hours(1);

// The audit log's origin: made once per installation and kept in the store, so
// checkpoints from two installations can never be confused.
Result<std::string> audit_origin(alerts::Store& store) {
  HPAN_TRY_ASSIGN(origin, store.get_meta("audit_origin"));
  if (!origin.empty()) return origin;
  const std::string id = crypto::hex_encode(crypto::random_bytes(8));
  origin = "hpand/audit/" + id;
  HPAN_TRY(store.set_meta("audit_origin", origin));
  return origin;
}

// Everything the running daemon owns, in the order it must be destroyed.
class Service {
 public:
  explicit Service(const ServiceOptions& opts) : opts_(opts), clock_(opts.clock_offset) {}

  // Opens the store, keys and audit log, and binds the control socket.
  Status start() {
    log_ = spdlog::default_logger()->clone("hpand");
    HPAN_TRY_ASSIGN(store, alerts::Store::open(opts_.state_dir));
    store_ = std::make_unique<alerts::Store>(std::move(store));
    const auto keyset_file = opts_.keyset.empty() ? opts_.state_dir / "keyset.json" : opts_.keyset;
    HPAN_TRY_ASSIGN(keys, alerts::KeyRing::load(opts_.signing_key, opts_.state_dir / "keys", keyset_file));
    keys_ = std::make_unique<alerts::KeyRing>(std::move(keys));
    HPAN_TRY_ASSIGN(origin, audit_origin(*store_));
    audit_ = std::make_unique<alerts::AuditLog>(
        *store_, [this]() -> const crypto::SigningKey& { return keys_->current(); }, origin);
    HPAN_TRY(audit_->load());
    lifecycle_ = std::make_unique<alerts::Lifecycle>(*store_, *audit_, clock_, opts_.lifecycle);
    outbox_ = std::make_unique<alerts::Outbox>(*store_, *audit_);
    reminders_ = std::make_unique<alerts::Reminders>(*store_, *audit_, clock_);
    HPAN_TRY(set_contacts(opts_));
    HPAN_TRY_ASSIGN(backfilled, lifecycle_->backfill_review_cases());
    if (backfilled > 0) log_->info("opened the review case of {} active notice(s)", backfilled);
    engine_ = std::make_unique<DeliveryEngine>(io_, *outbox_, *keys_, clock_, opts_.delivery, [this] {
      return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    });
    scheduler_ = std::make_unique<ReminderScheduler>(io_, *reminders_, clock_, opts_.clock_offset,
                                                     [this] { engine_->poke(); });
    dispatcher_ = std::make_unique<Dispatcher>(*store_, *audit_, *lifecycle_, *keys_, *outbox_, *reminders_, clock_,
                                               [this] { return status(); }, [this] {
                                                 engine_->poke();
                                                 scheduler_->poke();
                                               });
    HPAN_TRY(lifecycle_->audit_event(alerts::Actor::daemon(), "daemon.start", json::object(),
                                     json{{"kid", keys_->current().kid()},
                                          {"schema_version", store_->schema_version()}}));

    ControlServer::Options copts;
    copts.path = opts_.socket_path;
    copts.mode = opts_.socket_mode;
    copts.group = opts_.socket_group;
    copts.max_request_size = opts_.max_request_size;
    auto roles = opts_.roles;
    auto server = ControlServer::bind(
        io_, copts,
        [roles](const PeerCredentials& peer) { return authorise(roles, peer); },
        [this](const ControlContext& ctx, const ControlRequest& req) -> Result<json> {
          Caller caller{ctx.peer.uid, ctx.peer.gid, ctx.peer.user_name, ctx.role};
          return dispatcher_->call(caller, req.method, req.params);
        });
    if (!server) return std::move(server).error();
    server_ = std::move(*server);
    server_->start();
    HPAN_TRY(engine_->start());
    HPAN_TRY(scheduler_->start());
    log_->info("started: state {} socket {} signing key {} audit size {}", opts_.state_dir.string(),
               opts_.socket_path, keys_->current().kid(), audit_->size());
    return {};
  }

  // Runs the event loop until a stop signal.
  void run() {
    asio::signal_set signals(io_, SIGTERM, SIGINT);
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log_->info("signal {} received: stopping", sig);
      stop();
    });
    schedule_purge(std::chrono::seconds(0));
    io_.run();
  }

 private:
  void stop() {
    purge_timer_.cancel();
    if (server_) server_->stop();
    if (scheduler_) scheduler_->stop();
    if (engine_) engine_->stop();
    if (lifecycle_) (void)lifecycle_->audit_event(alerts::Actor::daemon(), "daemon.stop", json::object(), json::object());
    io_.stop();
  }

  // Purges notices past retention now and every hour.
  void schedule_purge(std::chrono::steady_clock::duration after) {
    purge_timer_.expires_after(after);
    purge_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto r = lifecycle_->purge_due(alerts::Actor::daemon());
      if (!r) log_->error("retention sweep failed: {}", r.error().message);
      else if (!(*r)["purged"].empty()) log_->info("retention sweep purged {} notice(s)", (*r)["purged"].size());
      schedule_purge(kPurgeInterval);
    });
  }

  // reminders.escalation_contact and reminders.review_case_owner: email addresses
  // and/or a webhook URL. A contact that does not parse stops the start.
  Status set_contacts(const ServiceOptions& o) {
    const bool loopback = o.delivery.allow_plain_http_to_loopback;
    HPAN_TRY_ASSIGN(escalation, alerts::parse_contact(o.escalation_contact, loopback, "reminders.escalation_contact"));
    HPAN_TRY_ASSIGN(owner, alerts::parse_contact(o.review_case_owner, loopback, "reminders.review_case_owner"));
    if (owner.empty()) owner = escalation;
    if (escalation.empty())
      log_->warn("no reminders.escalation_contact: dead deliveries and overdue cases are not escalated");
    if (owner.empty())
      log_->warn("no reminders.review_case_owner or escalation contact: review reminders of new notices have "
                 "no one to go to (set one with hpanctl case reassign)");
    auto settings = opts_.lifecycle;
    settings.review_case_owner = owner;
    settings.reminders.escalation = !escalation.empty();
    lifecycle_->set_settings(settings);
    outbox_->set_escalation(escalation);
    reminders_->set_rules(settings.reminders, escalation);
    return {};
  }

  json status() {
    json s = {{"version", "0.1.0"},
              {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started_).count()}};
    auto count_by = [this](const char* sql) {
      json out = json::object();
      auto stmt = store_->db().prepare(sql);
      if (!stmt) return out;
      while (true) {
        auto row = (*stmt)->step();
        if (!row || !*row) break;
        out[(*stmt)->column_text(0)] = (*stmt)->column_int(1);
      }
      return out;
    };
    s["notices"] = count_by("SELECT state, count(*) FROM notices GROUP BY state");
    s["outbox"] = count_by("SELECT state, count(*) FROM outbox GROUP BY state");
    s["deliveries_in_flight"] = engine_ ? engine_->in_flight() : 0;
    s["cases"] = count_by("SELECT state, count(*) FROM cases GROUP BY state");
    s["cases_overdue"] = [this] {
      auto stmt = store_->db().prepare("SELECT count(*) FROM cases WHERE state = 'open' AND due_date < ?");
      if (!stmt) return std::int64_t{0};
      (*stmt)->bind(1, alerts::format_date(alerts::london_date(clock_.now_unix())));
      auto row = (*stmt)->step();
      return row && *row ? (*stmt)->column_int(0) : std::int64_t{0};
    }();
    if (scheduler_ && scheduler_->next_at()) s["next_reminder_check"] = alerts::format_utc(*scheduler_->next_at());
    return s;
  }

  ServiceOptions opts_;
  alerts::SystemClock clock_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  asio::io_context io_{1};
  asio::steady_timer purge_timer_{io_};
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<alerts::Store> store_;
  std::unique_ptr<alerts::KeyRing> keys_;
  std::unique_ptr<alerts::AuditLog> audit_;
  std::unique_ptr<alerts::Lifecycle> lifecycle_;
  std::unique_ptr<alerts::Outbox> outbox_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::unique_ptr<alerts::Reminders> reminders_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<ReminderScheduler> scheduler_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<ControlServer> server_;
};

}  // namespace

int run_service(const ServiceOptions& options) {
  crypto::ensure_initialized();
  Service service(options);
  if (auto st = service.start(); !st) {
    spdlog::critical("cannot start: {}{}", st.error().message,
                     st.error().field.empty() ? "" : " (" + st.error().field + ")");
    return 1;
  }
  service.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace hpan::daemon
