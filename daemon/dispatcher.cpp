#include "daemon/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "alerts/params.h"
#include "daemon/logging.h"

namespace hpan::daemon {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> control_log() {
  static auto log = logger("control");
  return log;
}

// The params' "id" when it looks like one of hpand's ids (notice, case, body, delivery:
// letters, digits, '-' and '_', at most 128), for the log line and a refusal's audit
// record; anything else a caller put there ("?" when present) is neither logged nor
// audited: it may be a name, a control sequence or a megabyte.
std::string loggable_id(const json& params) {
  if (!params.is_object() || !params.contains("id")) return "";
  const json& id = params["id"];
  if (!id.is_string()) return "?";
  const auto& s = id.get_ref<const std::string&>();
  const bool shaped = !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  return shaped ? s : "?";
}

}  // namespace

const std::vector<MethodInfo>& Dispatcher::methods() {
  static const std::vector<MethodInfo> kMethods = {
      {"status", Role::viewer, false, "daemon version, uptime, counts"},
      {"notice.create", Role::administrator, true, "create a draft notice"},
      {"notice.update", Role::administrator, true,
       "edit a draft (back to draft if approved), or propose an update of an active notice"},
      {"notice.approve", Role::administrator, true,
       "second administrator approves a draft, a proposed update or a proposed revocation"},
      {"notice.reject", Role::administrator, true, "discard a proposed update or revocation"},
      {"notice.inform", Role::administrator, true,
       "record that the practitioner was informed (starts the representation period)"},
      {"notice.issue", Role::administrator, true, "issue (deliver) an approved notice"},
      {"notice.review", Role::administrator, true, "record a review: continue, update or revoke"},
      {"notice.revoke", Role::administrator, true, "propose revocation (needs a second administrator)"},
      {"notice.withdraw", Role::administrator, true, "withdraw a notice that was never issued"},
      {"notice.show", Role::administrator, false, "one notice in full"},
      {"notice.history", Role::administrator, false, "versions, reviews and audit records of a notice"},
      {"notice.list", Role::viewer, false, "notices (no personal data)"},
      {"notice.check", Role::viewer, false, "is this person the subject of an active notice?"},
      {"notice.sar", Role::administrator, false, "subject access: every notice about a person"},
      {"notice.purge", Role::administrator, true, "purge notices whose retention has ended"},
      {"body.add", Role::operator_, true, "register a recipient body"},
      {"body.suspend", Role::operator_, true, "stop deliveries to a body (held until resumed)"},
      {"body.resume", Role::operator_, true, "resume deliveries to a body"},
      {"body.remove", Role::operator_, true, "remove a body; its pending deliveries are cancelled"},
      {"body.show", Role::viewer, false, "one body"},
      {"body.list", Role::viewer, false, "registered bodies"},
      {"case.open", Role::operator_, true, "open a case (exclusion, suspension, restriction, action plan, follow-up)"},
      {"case.reviewed", Role::operator_, true, "record a case review; the next due date moves on"},
      {"case.close", Role::operator_, true, "close a case; its reminders stop"},
      {"case.reassign", Role::operator_, true, "change the owner who receives a case's reminders"},
      {"case.show", Role::operator_, false, "one case in full, with its notes, events and reminders"},
      {"case.list", Role::viewer, false, "cases by state and kind, or the overdue ones (no notes)"},
      {"reminders.upcoming", Role::viewer, false, "reminders that will go out in the next N days"},
      {"deliveries.list", Role::viewer, false, "deliveries by state, notice or body"},
      {"deliveries.show", Role::viewer, false, "one delivery with every attempt"},
      {"deliveries.retry", Role::operator_, true, "bring a dead or failed delivery (or all dead ones) back"},
      {"audit.verify", Role::viewer, false, "recompute the audit tree and check every checkpoint"},
      {"audit.proof", Role::viewer, false, "inclusion proof of one audit record"},
      {"audit.export", Role::viewer, false, "audit records and checkpoints, a page at a time"},
      {"keys.export", Role::viewer, false, "the issuer's public keyset"},
      {"keys.rotate", Role::administrator, true, "new signing key; old keys still verify"},
  };
  return kMethods;
}

const MethodInfo* Dispatcher::find(std::string_view method) {
  const auto& table = methods();
  auto it = std::find_if(table.begin(), table.end(), [&](const MethodInfo& m) { return m.name == method; });
  return it == table.end() ? nullptr : &*it;
}

bool Dispatcher::is_store_query(std::string_view method) {
  // Each reads the store through Lifecycle or Outbox only; none writes an audit record
  // or touches the loop's objects (the delivery engine, the audit tree, the key ring,
  // the reminder rules).
  static constexpr std::string_view kQueries[] = {"notice.list", "notice.check",    "body.show",      "body.list",
                                                  "case.list",   "deliveries.list", "deliveries.show"};
  return std::find(std::begin(kQueries), std::end(kQueries), method) != std::end(kQueries);
}

Dispatcher::Dispatcher(alerts::Store& store, alerts::AuditLog& audit, alerts::Lifecycle& lifecycle,
                       alerts::KeyRing& keys, alerts::Outbox& outbox, alerts::Reminders& reminders,
                       const alerts::Clock& clock, std::function<json()> status, std::function<void()> after_change)
    : store_(store), audit_(audit), lifecycle_(lifecycle), keys_(keys), outbox_(outbox), reminders_(reminders),
      clock_(clock),
      status_(std::move(status)), after_change_(std::move(after_change)) {}

Result<json> Dispatcher::call(const Caller& caller, const std::string& method, const json& params) {
  const alerts::Actor actor{caller.uid, caller.user.empty() ? std::to_string(caller.uid) : caller.user,
                            false};
  const MethodInfo* info = find(method);
  Result<json> result = [&]() -> Result<json> {
    if (info == nullptr)
      return make_error("unknown_method", "no method " + alerts::caller_key(method), "method");
    if (!caller.role || !role_allows(*caller.role, info->needs)) {
      Error e = make_error("forbidden",
                           caller.role ? "method " + method + " needs the " +
                                             std::string(to_string(info->needs)) + " role"
                                       : "uid " + std::to_string(caller.uid) +
                                             " has no role on this control socket",
                           "method");
      json object = {{"method", method}};
      if (const std::string id = loggable_id(params); !id.empty() && id != "?") object["id"] = id;
      if (auto st = lifecycle_.audit_failure(actor, "control.refused", object, e); !st)
        control_log()->error("audit of a refused request failed: {}", st.error().message);
      return e;
    }
    auto r = route(actor, method, params);
    if (r && info->mutates && after_change_) after_change_();
    return r;
  }();
  const std::string outcome = result ? "ok" : result.error().code;
  if (counter_.count) counter_.count(info == nullptr ? "unknown" : method, outcome);
  // A method name nobody knows and an error's field (which may name an unknown key the
  // caller sent) are the caller's text: bounded and escaped.
  const std::string logged_method = info == nullptr ? log_safe(method, 64) : method;
  // An id that matched nothing is the caller's text, not an id: not logged.
  const std::string target = !result && result.error().code == "not_found" ? "?" : loggable_id(params);
  if (result) {
    control_log()->info("request method={} uid={} id={} outcome=ok", logged_method, caller.uid, target);
  } else {
    control_log()->warn("request method={} uid={} id={} outcome={} field={}", logged_method, caller.uid, target,
                        result.error().code, log_safe(result.error().field, 128));
  }
  return result;
}

Result<json> Dispatcher::route(const alerts::Actor& actor, const std::string& method,
                               const json& params) {
  using alerts::Lifecycle;
  if (method == "status") {
    json s = status_ ? status_() : json::object();
    s["audit_size"] = audit_.size();
    s["audit_root"] = audit_.root_hex();
    s["signing_kid"] = keys_.current().kid();
    return s;
  }
  if (method == "notice.create") return lifecycle_.create(actor, params);
  if (method == "notice.update") return lifecycle_.update(actor, params);
  if (method == "notice.approve") return lifecycle_.approve(actor, params);
  if (method == "notice.reject") return lifecycle_.reject(actor, params);
  if (method == "notice.inform") return lifecycle_.inform(actor, params);
  if (method == "notice.issue") return lifecycle_.issue(actor, params);
  if (method == "notice.review") return lifecycle_.review(actor, params);
  if (method == "notice.revoke") return lifecycle_.revoke(actor, params);
  if (method == "notice.withdraw") return lifecycle_.withdraw(actor, params);
  if (method == "notice.show") return lifecycle_.show(params);
  if (method == "notice.history") return lifecycle_.history(params);
  if (method == "notice.list") return lifecycle_.list(params);
  if (method == "notice.check") return lifecycle_.check(params);
  if (method == "notice.sar") return lifecycle_.subject_access(params);
  if (method == "notice.purge") {
    HPAN_TRY(alerts::param_only(params, {}));
    return lifecycle_.purge_due(actor);
  }
  if (method == "body.add") return lifecycle_.body_add(actor, params);
  if (method == "body.suspend" || method == "body.resume" || method == "body.remove")
    return lifecycle_.body_set_state(actor, params, method);
  if (method == "body.show") return lifecycle_.body_show(params);
  if (method == "body.list") return lifecycle_.body_list(params);
  if (method == "case.open") return lifecycle_.case_open(actor, params);
  if (method == "case.reviewed") return lifecycle_.case_reviewed(actor, params);
  if (method == "case.close") return lifecycle_.case_close(actor, params);
  if (method == "case.reassign") return lifecycle_.case_reassign(actor, params);
  if (method == "case.show") return lifecycle_.case_show(params);
  if (method == "case.list") return lifecycle_.case_list(params);
  if (method == "reminders.upcoming") return reminders_.upcoming(params);
  if (method == "deliveries.list") return outbox_.list(params);
  if (method == "deliveries.show") return outbox_.show(params);
  if (method == "deliveries.retry") return outbox_.retry(actor, params, clock_.now_unix());
  if (method == "audit.verify") {
    HPAN_TRY(alerts::param_only(params, {}));
    HPAN_TRY_ASSIGN(report, audit_.verify(keys_.keyset()));
    json j = {{"ok", report.ok},           {"records", report.records},
              {"checkpoints", report.checkpoints}, {"root", report.root_hex},
              {"problem", report.problem}};
    j["first_bad_record"] = report.first_bad_record ? json(*report.first_bad_record) : json();
    return j;
  }
  if (method == "audit.proof") {
    HPAN_TRY(alerts::param_only(params, {"index"}));
    HPAN_TRY_ASSIGN(index, alerts::param_int(params, "index", -1, 0, INT64_MAX));
    return audit_.proof(index);
  }
  if (method == "audit.export") {
    HPAN_TRY(alerts::param_only(params, {"from", "limit"}));
    HPAN_TRY_ASSIGN(from, alerts::param_int(params, "from", 0, 0, INT64_MAX));
    HPAN_TRY_ASSIGN(limit, alerts::param_int(params, "limit", 1000, 1, 10000));
    return audit_.records(from, limit);
  }
  if (method == "keys.export") {
    HPAN_TRY(alerts::param_only(params, {}));
    return json{{"keyset", json::parse(keys_.keyset().to_json())},
                {"audit_origin", audit_.origin()}};
  }
  if (method == "keys.rotate") {
    HPAN_TRY(alerts::param_only(params, {}));
    const std::string old_kid = keys_.current().kid();
    HPAN_TRY_ASSIGN(kid, keys_.rotate());
    HPAN_TRY(lifecycle_.audit_event(actor, "keys.rotate", json{{"kid", kid}},
                                    json{{"previous_kid", old_kid}}));
    return json{{"kid", kid}, {"previous_kid", old_kid},
                {"keyset", json::parse(keys_.keyset().to_json())}};
  }
  return make_error("unknown_method", "no method " + alerts::caller_key(method), "method");
}

}  // namespace hpan::daemon
