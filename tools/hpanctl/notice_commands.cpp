// hpanctl notice ..., check, sar
#include <iostream>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

namespace {

// Runs `method` and prints the result; sets `code`.
void print_summary(const json& n) {
  print_fields(n, {"id", "state", "version", "profession", "regulator", "urgent", "created_at",
                   "issued_at", "next_review_due", "pending"});
}

void print_result_with_version(const json& r) {
  // Approve and issue answer {notice, version?}; the others answer the summary itself.
  const bool wrapped = r.contains("notice");
  print_summary(wrapped ? r["notice"] : r);
  if (wrapped && r.contains("version")) {
    const json& v = r["version"];
    std::cout << "delivered version " << text(v["version"]) << " (" << text(v["type"]) << "): "
              << text(v["deliveries_queued"]) << " deliveries queued, content hash "
              << text(v["content_hash"]).substr(0, 16) << "\n";
  }
}

void print_notice_list(const json& r) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : r["notices"])
    rows.push_back({text(n["id"]), text(n["state"]), text(n["version"]), text(n["profession"]),
                    text(n["regulator"]), text(n["issued_at"]), text(n["next_review_due"]),
                    text(n["pending"])});
  print_table({"ID", "STATE", "VER", "PROFESSION", "REGULATOR", "ISSUED", "REVIEW DUE", "PENDING"},
              rows);
}

void print_full_notice(const json& n) {
  print_fields(n, {"id", "state", "version", "urgent", "urgent_reason", "created_at", "created_by",
                   "approved_at", "approved_by", "informed_at", "representation_ends_at",
                   "issued_at", "next_review_due", "last_reviewed_at", "revoked_at",
                   "revocation_reason", "withdrawn_at", "withdrawal_reason", "purged_at"});
  if (!n["pending_action"].is_null())
    std::cout << "pending:  " << text(n["pending_action"]["kind"]) << " by "
              << text(n["pending_action"]["by"]) << " at " << text(n["pending_action"]["at"])
              << " (awaiting a second administrator)\n";
  const json& c = n["content"];
  const json& p = c["practitioner"];
  std::cout << "\npractitioner:   " << text(p["full_name"]) << "\n"
            << "  profession:   " << text(p["profession"]) << "\n"
            << "  registration: " << text(p["regulator"]) << " " << text(p["registration_number"])
            << "\n"
            << "  born:         " << text(p["date_of_birth"]) << "\n";
  if (!p["other_names"].empty()) std::cout << "  other names:  " << text(p["other_names"]) << "\n";
  std::cout << "concern:        " << text(c["concern"]["categories"]) << "\n"
            << "  " << text(c["concern"]["description"]) << "\n"
            << "requested by:   " << text(c["requesting_body"]["id"]) << " ("
            << text(c["requesting_body"]["name"]) << "), " << text(c["requester"]["name"]) << ", "
            << text(c["requester"]["role"]) << "\n"
            << "recipients:     " << text(c["recipients"]) << "\n";
  if (n.contains("versions") && !n["versions"].empty()) {
    std::cout << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : n["versions"])
      rows.push_back({text(v["version"]), text(v["type"]), text(v["created_at"]), text(v["maker"]),
                      text(v["checker"]), text(v["delivered"]) + "/" + text(v["deliveries"])});
    print_table({"VERSION", "TYPE", "AT", "MAKER", "CHECKER", "DELIVERED"}, rows);
  }
}

void print_history(const json& h) {
  print_summary(h["notice"]);
  std::cout << "\nversions:\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : h["versions"])
    rows.push_back({text(v["version"]), text(v["type"]), text(v["created_at"]), text(v["maker"]),
                    text(v["checker"]), text(v["content_hash"]).substr(0, 16)});
  print_table({"VERSION", "TYPE", "AT", "MAKER", "CHECKER", "HASH"}, rows);
  std::cout << "\nreviews:\n";
  rows.clear();
  for (const auto& r : h["reviews"])
    rows.push_back({text(r["at"]), text(r["by"]), text(r["outcome"]), text(r["next_due"])});
  print_table({"AT", "BY", "OUTCOME", "NEXT DUE"}, rows);
  std::cout << "\naudit:\n";
  rows.clear();
  for (const auto& a : h["audit"])
    rows.push_back({text(a["seq"]), text(a["at"]), text(a["actor"]["user"]), text(a["method"]),
                    text(a["outcome"])});
  print_table({"SEQ", "AT", "WHO", "METHOD", "OUTCOME"}, rows);
}

// --regulator/--number or --name/--dob, shared by check and sar.
struct SubjectArgs {
  std::string regulator, number, name, dob;
  void add(CLI::App* cmd) {
    cmd->add_option("--regulator", regulator, "GMC, GDC, GPhC, NMC, HCPC or PSNI");
    cmd->add_option("--number", number, "registration number");
    cmd->add_option("--name", name, "full name (with --dob)");
    cmd->add_option("--dob", dob, "date of birth YYYY-MM-DD (with --name)");
  }
  json params() const {
    json p = json::object();
    if (!regulator.empty()) p["regulator"] = regulator;
    if (!number.empty()) p["number"] = number;
    if (!name.empty()) p["name"] = name;
    if (!dob.empty()) p["date_of_birth"] = dob;
    return p;
  }
};

}  // namespace

void add_notice_commands(CLI::App& app, Options& opts, int& code) {
  auto* notice = app.add_subcommand("notice", "Notices: create, approve, issue, review, revoke, ...");
  notice->require_subcommand(1);

  auto* create = notice->add_subcommand("create", "Create a draft notice from a JSON content file");
  auto* create_file = &hold<std::string>();
  create->add_option("--file", *create_file, "content JSON (see docs/control-protocol.md); - for stdin")
      ->required();
  create->callback([&opts, &code, create_file] {
    auto content = read_json_file(*create_file);
    if (!content) {
      code = report_error(opts, content.error());
      return;
    }
    code = call_and_print(opts, "notice.create", {{"content", *content}}, print_summary);
  });

  auto* update = notice->add_subcommand(
      "update", "Edit a draft, or propose an update of an active notice (a second administrator approves)");
  auto* update_id = &hold<std::string>();
  auto* update_file = &hold<std::string>();
  update->add_option("id", *update_id, "notice id")->required();
  update->add_option("--file", *update_file, "JSON with the changed content fields; - for stdin")
      ->required();
  update->callback([&opts, &code, update_id, update_file] {
    auto changes = read_json_file(*update_file);
    if (!changes) {
      code = report_error(opts, changes.error());
      return;
    }
    code = call_and_print(opts, "notice.update", {{"id", *update_id}, {"content", *changes}}, print_summary);
  });

  // Sub-commands taking an id and, for some, a reason.
  struct Simple {
    const char* name;
    const char* method;
    const char* help;
    bool reason;
  };
  static const Simple kSimple[] = {
      {"approve", "notice.approve", "Approve as the second administrator (draft, update or revocation)", false},
      {"reject", "notice.reject", "Discard a proposed update or revocation", true},
      {"revoke", "notice.revoke", "Propose revocation (a second administrator approves)", true},
      {"withdraw", "notice.withdraw", "Withdraw a notice that was never issued", true},
  };
  for (const auto& s : kSimple) {
    auto* cmd = notice->add_subcommand(s.name, s.help);
    auto* id = &hold<std::string>();
    auto* reason = &hold<std::string>();
    cmd->add_option("id", *id, "notice id")->required();
    if (s.reason) cmd->add_option("--reason", *reason, "the recorded reason")->required();
    const std::string method = s.method;
    const bool with_reason = s.reason;
    cmd->callback([&opts, &code, id, reason, method, with_reason] {
      json p = {{"id", *id}};
      if (with_reason) p["reason"] = *reason;
      code = call_and_print(opts, method, p, print_result_with_version);
    });
  }

  auto* inform = notice->add_subcommand(
      "inform", "Record that the practitioner was informed (starts the representation period)");
  auto* inform_id = &hold<std::string>();
  auto* inform_on = &hold<std::string>();
  inform->add_option("id", *inform_id, "notice id")->required();
  inform->add_option("--on", *inform_on, "date informed, YYYY-MM-DD (default today)");
  inform->callback([&opts, &code, inform_id, inform_on] {
    json p = {{"id", *inform_id}};
    if (!inform_on->empty()) p["informed_on"] = *inform_on;
    code = call_and_print(opts, "notice.inform", p, [](const json& r) {
      print_summary(r);
      if (r.contains("representation_ends_at"))
        std::cout << "representation period ends " << text(r["representation_ends_at"]) << "\n";
    });
  });

  auto* issue = notice->add_subcommand("issue", "Issue an approved notice: deliver it to every recipient");
  auto* issue_id = &hold<std::string>();
  auto* urgent = &hold<bool>();
  auto* issue_reason = &hold<std::string>();
  issue->add_option("id", *issue_id, "notice id")->required();
  issue->add_flag("--urgent", *urgent, "issue before the practitioner is informed (needs --reason)");
  issue->add_option("--reason", *issue_reason, "why it is urgent");
  issue->callback([&opts, &code, issue_id, urgent, issue_reason] {
    json p = {{"id", *issue_id}};
    if (*urgent) p["urgent"] = true;
    if (!issue_reason->empty()) p["reason"] = *issue_reason;
    code = call_and_print(opts, "notice.issue", p, print_result_with_version);
  });

  auto* review = notice->add_subcommand("review", "Record a review of an active notice");
  auto* review_id = &hold<std::string>();
  auto* outcome = &hold<std::string>();
  auto* next_due = &hold<std::string>();
  auto* review_reason = &hold<std::string>();
  auto* changes_file = &hold<std::string>();
  review->add_option("id", *review_id, "notice id")->required();
  review->add_option("--outcome", *outcome, "continue, update or revoke")
      ->required()
      ->check(CLI::IsMember({"continue", "update", "revoke"}));
  review->add_option("--next-due", *next_due, "next review date YYYY-MM-DD (default: interval)");
  review->add_option("--reason", *review_reason, "reason (for revoke)");
  review->add_option("--changes", *changes_file, "JSON of changed fields (for update)");
  review->callback([&opts, &code, review_id, outcome, next_due, review_reason, changes_file] {
    json p = {{"id", *review_id}, {"outcome", *outcome}};
    if (!next_due->empty()) p["next_due"] = *next_due;
    if (!review_reason->empty()) p["reason"] = *review_reason;
    if (!changes_file->empty()) {
      auto changes = read_json_file(*changes_file);
      if (!changes) {
        code = report_error(opts, changes.error());
        return;
      }
      p["changes"] = *changes;
    }
    code = call_and_print(opts, "notice.review", p, print_summary);
  });

  auto* show = notice->add_subcommand("show", "Show one notice in full (personal data)");
  auto* show_id = &hold<std::string>();
  show->add_option("id", *show_id, "notice id")->required();
  show->callback([&opts, &code, show_id] {
    code = call_and_print(opts, "notice.show", {{"id", *show_id}}, print_full_notice);
  });

  auto* history = notice->add_subcommand("history", "Versions, reviews and audit records of a notice");
  auto* history_id = &hold<std::string>();
  history->add_option("id", *history_id, "notice id")->required();
  history->callback([&opts, &code, history_id] {
    code = call_and_print(opts, "notice.history", {{"id", *history_id}}, print_history);
  });

  auto* list = notice->add_subcommand("list", "List notices (no personal data)");
  auto* list_state = &hold<std::string>();
  list->add_option("--state", *list_state, "only this state");
  list->callback([&opts, &code, list_state] {
    json p = json::object();
    if (!list_state->empty()) p["state"] = *list_state;
    code = call_and_print(opts, "notice.list", p, print_notice_list);
  });

  auto* purge = notice->add_subcommand("purge", "Purge revoked and withdrawn notices past retention");
  purge->callback([&opts, &code] {
    code = call_and_print(opts, "notice.purge", json::object(), [](const json& r) {
      std::cout << "purged " << r["purged"].size() << " notice(s)";
      if (!r["purged"].empty()) std::cout << ": " << text(r["purged"]);
      std::cout << "\n";
    });
  });

  auto* check = app.add_subcommand("check", "Is this person the subject of an active notice?");
  auto* check_args = &hold<SubjectArgs>();
  check_args->add(check);
  check->callback([&opts, &code, check_args] {
    code = call_and_print(opts, "notice.check", check_args->params(), [](const json& r) {
      if (!r["subject_of_active_notice"].get<bool>()) {
        std::cout << "no active notice\n";
        return;
      }
      std::cout << "SUBJECT OF AN ACTIVE NOTICE\n";
      for (const auto& n : r["notices"])
        std::cout << "  " << text(n["id"]) << " issued " << text(n["issued_at"]) << " by "
                  << text(n["requesting_body"]) << "; contact " << text(n["contact"]["name"])
                  << " " << text(n["contact"]["email"]) << "\n";
    });
  });

  auto* sar = app.add_subcommand("sar", "Subject access: every notice about a person, with history");
  auto* sar_args = &hold<SubjectArgs>();
  sar_args->add(sar);
  sar->callback([&opts, &code, sar_args] {
    code = call_and_print(opts, "notice.sar", sar_args->params(), [](const json& r) {
      std::cout << r["notices"].size() << " notice(s)\n";
      for (const auto& n : r["notices"]) {
        std::cout << "\n";
        print_full_notice(n);
      }
    });
  });
}

}  // namespace hpan::ctl
