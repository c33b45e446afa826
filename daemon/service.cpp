#include "daemon/service.h"
#include "daemon/logging.h"

#include <curl/curl.h>
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
#include "daemon/metrics.h"
#include "daemon/systemd.h"
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
  Service(const ServiceOptions& opts, ReloadOptions reload)
      : opts_(opts), reload_(std::move(reload)), clock_(opts.clock_offset) {}

  // Opens the store, keys and audit log, and binds the control socket.
  Status start() {
    log_ = logger("hpand");
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
    HPAN_TRY_ASSIGN(activated, systemd::listen_fd());
    if (activated) copts.adopt_fd = *activated;
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
    dispatcher_->set_request_counter(RequestCounter{[this](std::string_view m, std::string_view o) { requests_.add(m, o); }});
    HPAN_TRY(start_queries());
    server_->start();
    if (!opts_.metrics_listen.empty()) {
      HPAN_TRY_ASSIGN(metrics, MetricsServer::bind(io_, opts_.metrics_listen, [this] { return metrics(); }));
      metrics_ = std::move(metrics);
      metrics_->start();
    }
    HPAN_TRY(engine_->start());
    HPAN_TRY(scheduler_->start());
    log_->info("started: state {} socket {}{} signing key {} audit size {}", opts_.state_dir.string(),
               opts_.socket_path, activated ? " (from systemd)" : "", keys_->current().kid(), audit_->size());
    return {};
  }

  // Runs the event loop until a stop signal.
  void run() {
    asio::signal_set signals(io_, SIGTERM, SIGINT);
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log_->info("signal {} received: stopping", sig);
      systemd::notify("STOPPING=1\nSTATUS=stopping");
      stop();
    });
    wait_for_hangup();
    schedule_purge(std::chrono::seconds(0));
    // Ready: the store is open and the control socket listens.
    systemd::notify("READY=1\nSTATUS=" + status_line());
    if (auto interval = systemd::watchdog_interval()) {
      log_->info("watchdog: pinging every {} ms", interval->count() / 2000);
      schedule_watchdog(*interval / 2);
    }
    io_.run();
  }

 private:
  void stop() {
    purge_timer_.cancel();
    watchdog_timer_.cancel();
    hangup_.cancel();
    if (metrics_) metrics_->stop();
    if (server_) server_->stop();
    if (scheduler_) scheduler_->stop();
    if (engine_) engine_->stop();
    if (lifecycle_) (void)lifecycle_->audit_event(alerts::Actor::daemon(), "daemon.stop", json::object(), json::object());
    io_.stop();
  }

  void wait_for_hangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload();
      wait_for_hangup();
    });
  }

  // Store queries (Dispatcher::is_store_query) from a caller whose role allows them are
  // answered on the control thread, from a connection of its own to the same database:
  // WAL readers see every committed change (so a caller reads its own writes) and never
  // wait for the loop's transactions or its delivery work. Everything else runs on the loop.
  Status start_queries() {
    HPAN_TRY_ASSIGN(store, alerts::Store::open(opts_.state_dir));
    query_store_ = std::make_unique<alerts::Store>(std::move(store));
    // Never loaded or appended to: the query methods write no audit record.
    query_audit_ = std::make_unique<alerts::AuditLog>(
        *query_store_, [this]() -> const crypto::SigningKey& { return keys_->current(); }, "hpand/queries");
    query_lifecycle_ = std::make_unique<alerts::Lifecycle>(*query_store_, *query_audit_, clock_, opts_.lifecycle);
    query_outbox_ = std::make_unique<alerts::Outbox>(*query_store_, *query_audit_);
    query_reminders_ = std::make_unique<alerts::Reminders>(*query_store_, *query_audit_, clock_);
    query_dispatcher_ = std::make_unique<Dispatcher>(*query_store_, *query_audit_, *query_lifecycle_, *keys_,
                                                     *query_outbox_, *query_reminders_, clock_, nullptr, nullptr);
    query_dispatcher_->set_request_counter(
        RequestCounter{[this](std::string_view m, std::string_view o) { requests_.add(m, o); }});
    server_->set_query_handler(
        [](const ControlContext& ctx, const ControlRequest& req) {
          const MethodInfo* m = Dispatcher::find(req.method);
          return m != nullptr && Dispatcher::is_store_query(req.method) && ctx.role && role_allows(*ctx.role, m->needs);
        },
        [this](const ControlContext& ctx, const ControlRequest& req) -> Result<json> {
          Caller caller{ctx.peer.uid, ctx.peer.gid, ctx.peer.user_name, ctx.role};
          // Whatever happens, the next query reads a fresh snapshot.
          struct ResetAfter {
            alerts::sql::Database& db;
            ~ResetAfter() { db.reset_statements(); }
          } reset{query_store_->db()};
          return query_dispatcher_->call(caller, req.method, req.params);
        });
    return {};
  }

  // SIGHUP: roles, delivery settings (limits, retry policy, SMTP), reminder rules and
  // contacts, lifecycle periods and the log level change in place; deliveries in flight
  // go on. Paths (state, socket, keys, metrics) need a restart. A configuration that
  // does not load is refused and the running one stays.
  void reload() {
    systemd::notify_reloading();
    log_->info("SIGHUP: reloading the configuration");
    auto next = reload_ ? reload_() : Result<ServiceOptions>(make_error("unsupported", "no configuration file"));
    if (!next) {
      log_->error("configuration not reloaded, the running one stays: {}{}", next.error().message,
                  next.error().field.empty() ? "" : " (" + next.error().field + ")");
      systemd::notify("READY=1\nSTATUS=reload refused: " + next.error().code + "; " + status_line());
      return;
    }
    ServiceOptions o = std::move(*next);
    o.clock_offset = opts_.clock_offset;
    const ServiceOptions old = opts_;
    opts_.lifecycle = o.lifecycle;
    opts_.escalation_contact = o.escalation_contact;
    opts_.review_case_owner = o.review_case_owner;
    opts_.delivery.allow_plain_http_to_loopback = o.delivery.allow_plain_http_to_loopback;
    if (auto st = set_contacts(opts_); !st) {
      log_->error("configuration not reloaded, the running one stays: {} ({})", st.error().message, st.error().field);
      opts_ = old;
      (void)set_contacts(opts_);
      systemd::notify("READY=1\nSTATUS=reload refused: " + st.error().code + "; " + status_line());
      return;
    }
    if (auto r = reminders_->apply_rules(); !r) {
      log_->error("configuration not reloaded, the running one stays: rescheduling reminders failed: {}",
                  r.error().message);
      opts_ = old;
      (void)set_contacts(opts_);
      (void)reminders_->apply_rules();
      systemd::notify("READY=1\nSTATUS=reload refused: " + r.error().code + "; " + status_line());
      return;
    }
    scheduler_->poke();
    opts_.roles = o.roles;
    auto roles = opts_.roles;
    server_->set_authorise([roles](const PeerCredentials& peer) { return authorise(roles, peer); });
    opts_.delivery = o.delivery;
    engine_->set_settings(opts_.delivery);
    opts_.log_level = o.log_level;
    set_log_level(opts_.log_level);
    for (const auto& [what, changed] :
         {std::pair{"state_dir", o.state_dir != old.state_dir}, std::pair{"control.socket", o.socket_path != old.socket_path},
          std::pair{"keys", o.signing_key != old.signing_key || o.keyset != old.keyset},
          std::pair{"metrics.listen", o.metrics_listen != old.metrics_listen},
          std::pair{"control.max_request_size", o.max_request_size != old.max_request_size},
          std::pair{"control.socket_mode or socket_group",
                    o.socket_mode != old.socket_mode || o.socket_group != old.socket_group}})
      if (changed) log_->warn("{} changed: takes effect at the next restart", what);
    log_->info("configuration reloaded");
    (void)lifecycle_->audit_event(alerts::Actor::daemon(), "daemon.reload", json::object(), json::object());
    systemd::notify("READY=1\nSTATUS=" + status_line());
  }

  // WATCHDOG=1 from the event loop itself: a stuck loop stops the pings.
  void schedule_watchdog(std::chrono::microseconds every) {
    watchdog_timer_.expires_after(every);
    watchdog_timer_.async_wait([this, every](const boost::system::error_code& ec) {
      if (ec) return;
      systemd::notify("WATCHDOG=1\nSTATUS=" + status_line());
      schedule_watchdog(every);
    });
  }

  // Figures for status, STATUS= and metrics are best effort: a query that fails gives
  // no rows (and `scalar` its fallback). `param` binds the one text parameter, if any.
  void each_row(const std::string& sql, const std::function<void(alerts::sql::Statement&)>& each,
                const std::optional<std::string>& param = std::nullopt) {
    auto stmt = store_->db().prepare(sql);
    if (!stmt) return;
    if (param) (*stmt)->bind(1, *param);
    while (true) {
      auto row = (*stmt)->step();
      if (!row || !*row) break;
      each(**stmt);
    }
    (*stmt)->reset();
  }
  std::int64_t scalar(const std::string& sql, const std::optional<std::string>& param = std::nullopt,
                      std::int64_t fallback = 0) {
    std::int64_t v = fallback;
    each_row(sql, [&v](alerts::sql::Statement& st) { v = st.column_int(0); }, param);
    return v;
  }
  std::string london_today() const { return alerts::format_date(alerts::london_date(clock_.now_unix())); }

  // "pending 3, in flight 1, dead 0, open cases 2": for STATUS=.
  std::string status_line() {
    auto count = [this](const char* sql) { return scalar(sql, std::nullopt, -1); };
    return "pending " + std::to_string(count("SELECT count(*) FROM outbox WHERE state IN ('pending','failed')")) +
           ", in flight " + std::to_string(engine_ ? engine_->in_flight() : 0) + ", dead " +
           std::to_string(count("SELECT count(*) FROM outbox WHERE state = 'dead'")) + ", open cases " +
           std::to_string(count("SELECT count(*) FROM cases WHERE state = 'open'"));
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
      each_row(sql, [&out](alerts::sql::Statement& st) { out[st.column_text(0)] = st.column_int(1); });
      return out;
    };
    s["notices"] = count_by("SELECT state, count(*) FROM notices GROUP BY state");
    s["outbox"] = count_by("SELECT state, count(*) FROM outbox GROUP BY state");
    s["deliveries_in_flight"] = engine_ ? engine_->in_flight() : 0;
    s["cases"] = count_by("SELECT state, count(*) FROM cases GROUP BY state");
    s["cases_overdue"] = scalar("SELECT count(*) FROM cases WHERE state = 'open' AND due_date < ?", london_today());
    if (scheduler_ && scheduler_->next_at()) s["next_reminder_check"] = alerts::format_utc(*scheduler_->next_at());
    return s;
  }

  // The Prometheus text exposition (DESIGN §8). Figures come from the store at scrape
  // time; control requests are counted since start.
  std::string metrics() {
    std::string out;
    auto family = [&out](const char* name, const char* type, const char* help) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    const std::int64_t now = clock_.now_unix();
    family("hpand_build_info", "gauge", "Build of the running hpand.");
    out += "hpand_build_info{version=\"0.1.0\",schema=\"" + std::to_string(store_->schema_version()) + "\"} 1\n";
    family("hpand_uptime_seconds", "gauge", "Seconds since hpand started.");
    out += "hpand_uptime_seconds " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count()) + "\n";
    family("hpand_deliveries", "gauge", "Outbox rows by channel, message type and state.");
    each_row("SELECT channel, message_type, state, count(*) FROM outbox GROUP BY channel, message_type, state",
         [&out](alerts::sql::Statement& s) {
           out += "hpand_deliveries{channel=\"" + prometheus_label(s.column_text(0)) + "\",type=\"" +
                  prometheus_label(s.column_text(1)) + "\",state=\"" + prometheus_label(s.column_text(2)) + "\"} " +
                  std::to_string(s.column_int(3)) + "\n";
         });
    family("hpand_delivery_queue_depth", "gauge", "Deliveries waiting to be sent (pending, failed, in flight).");
    out += "hpand_delivery_queue_depth " +
           std::to_string(scalar("SELECT count(*) FROM outbox WHERE state IN ('pending','failed','in_flight')")) + "\n";
    family("hpand_delivery_oldest_pending_age_seconds", "gauge", "Age of the oldest delivery not yet sent (0 when none).");
    const std::int64_t oldest =
        scalar("SELECT coalesce(min(created_at), 0) FROM outbox WHERE state IN ('pending','failed','in_flight')");
    out += "hpand_delivery_oldest_pending_age_seconds " + std::to_string(oldest == 0 ? 0 : std::max<std::int64_t>(now - oldest, 0)) + "\n";
    family("hpand_deliveries_in_flight", "gauge", "Transfers in progress now.");
    out += "hpand_deliveries_in_flight " + std::to_string(engine_ ? engine_->in_flight() : 0) + "\n";
    family("hpand_notices", "gauge", "Notices by state.");
    each_row("SELECT state, count(*) FROM notices GROUP BY state", [&out](alerts::sql::Statement& s) {
      out += "hpand_notices{state=\"" + prometheus_label(s.column_text(0)) + "\"} " + std::to_string(s.column_int(1)) + "\n";
    });
    family("hpand_cases_open", "gauge", "Open cases by kind.");
    each_row("SELECT kind, count(*) FROM cases WHERE state = 'open' GROUP BY kind", [&out](alerts::sql::Statement& s) {
      out += "hpand_cases_open{kind=\"" + prometheus_label(s.column_text(0)) + "\"} " + std::to_string(s.column_int(1)) + "\n";
    });
    const std::string today = london_today();
    auto by_date = [&](const char* cmp) {
      return scalar(std::string("SELECT count(*) FROM cases WHERE state = 'open' AND due_date ") + cmp + " ?", today);
    };
    family("hpand_reminders_due", "gauge", "Open cases whose review is due today.");
    out += "hpand_reminders_due " + std::to_string(by_date("=")) + "\n";
    family("hpand_reminders_overdue", "gauge", "Open cases whose review is overdue.");
    out += "hpand_reminders_overdue " + std::to_string(by_date("<")) + "\n";
    family("hpand_reminders_queued_total", "counter", "Reminders queued (one per case, due date and slot).");
    out += "hpand_reminders_queued_total " + std::to_string(scalar("SELECT count(*) FROM reminders")) + "\n";
    family("hpand_control_requests_total", "counter", "Control requests since start, by method and outcome.");
    for (const auto& [key, n] : requests_.all())
      out += "hpand_control_requests_total{method=\"" + prometheus_label(key.first) + "\",outcome=\"" +
             prometheus_label(key.second) + "\"} " + std::to_string(n) + "\n";
    family("hpand_audit_records", "gauge", "Records in the audit log.");
    out += "hpand_audit_records " + std::to_string(audit_->size()) + "\n";
    return out;
  }

  ServiceOptions opts_;
  ReloadOptions reload_;
  alerts::SystemClock clock_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  asio::io_context io_{1};
  asio::steady_timer purge_timer_{io_};
  asio::steady_timer watchdog_timer_{io_};
  asio::signal_set hangup_{io_, SIGHUP};
  RequestCounts requests_;
  std::unique_ptr<MetricsServer> metrics_;
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
  std::unique_ptr<alerts::Store> query_store_;
  std::unique_ptr<alerts::AuditLog> query_audit_;
  std::unique_ptr<alerts::Lifecycle> query_lifecycle_;
  std::unique_ptr<alerts::Outbox> query_outbox_;
  std::unique_ptr<alerts::Reminders> query_reminders_;
  std::unique_ptr<Dispatcher> query_dispatcher_;
  std::unique_ptr<ControlServer> server_;  // first to go: its thread uses the objects above
};

}  // namespace

int run_service(const ServiceOptions& options, ReloadOptions reload) {
  crypto::ensure_initialized();
  // Before any thread starts: the builder threads make curl handles.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    spdlog::critical("cannot start: libcurl did not initialise");
    return 1;
  }
  Service service(options, std::move(reload));
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
