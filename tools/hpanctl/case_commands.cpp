// hpanctl case open | show | list | reviewed | close | reassign, and reminders upcoming
#include <iostream>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

namespace {

std::string owner_text(const json& owner) {
  std::string out;
  for (const auto& e : owner["emails"]) out += (out.empty() ? "" : ", ") + text(e);
  if (!text(owner["webhook"]).empty()) out += (out.empty() ? "" : ", ") + text(owner["webhook"]);
  return out.empty() ? "(none)" : out;
}

void print_case(const json& c) {
  print_fields(c, {"id", "kind", "notice_id", "state", "due_date", "interval", "next_reminder_at", "opened_at",
                   "opened_by", "reviewed_at", "closed_at", "closed_by", "close_reason"});
  std::cout << "owner: " << owner_text(c["owner"]) << "\n";
  if (c.contains("notes") && !text(c["notes"]).empty()) std::cout << "notes: " << text(c["notes"]) << "\n";
  if (c.contains("events") && !c["events"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : c["events"])
      rows.push_back({text(e["at"]), text(e["event"]), text(e["by"]), text(e["due_date"]), text(e["note"])});
    std::cout << "\n";
    print_table({"AT", "EVENT", "BY", "DUE", "NOTE"}, rows);
  }
  if (c.contains("reminders") && !c["reminders"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : c["reminders"])
      rows.push_back({text(r["queued_at"]), text(r["reminder"]), text(r["due_date"]),
                      r["late"].get<bool>() ? "late" : "", text(r["missed"]), text(r["deliveries"])});
    std::cout << "\n";
    print_table({"QUEUED", "REMINDER", "DUE", "LATE", "MISSED", "DELIVERIES"}, rows);
  }
}

}  // namespace

void add_case_commands(CLI::App& app, Options& opts, int& code) {
  auto* cases = app.add_subcommand("case", "Cases and their review reminders");
  cases->require_subcommand(1);
  auto run = [&opts, &code](const std::string& method, const json& params,
                            const std::function<void(const json&)>& human) {
    code = call_and_print(opts, method, params, human);
  };

  struct OpenArgs {
    std::string kind, owner, interval, due, notes;
  };
  auto* o = &hold<OpenArgs>();
  auto* open = cases->add_subcommand("open", "Open a case; its owner is reminded before each review falls due");
  open->add_option("kind", o->kind, "exclusion, suspension, restriction, action-plan or follow-up")->required();
  open->add_option("--owner", o->owner, "email addresses and/or one webhook URL, comma-separated")->required();
  open->add_option("--interval", o->interval, "review every 14d, 4w, 3mo, 1y (default by kind)");
  open->add_option("--due", o->due, "first review due on YYYY-MM-DD (default: today + interval)");
  open->add_option("--notes", o->notes, "notes kept with the case (never sent in reminders)");
  open->callback([o, run] {
    json p = {{"kind", o->kind}, {"owner", o->owner}};
    if (!o->interval.empty()) p["interval"] = o->interval;
    if (!o->due.empty()) p["due_date"] = o->due;
    if (!o->notes.empty()) p["notes"] = o->notes;
    run("case.open", p, print_case);
  });

  auto* show_id = &hold<std::string>();
  auto* show = cases->add_subcommand("show", "One case with its notes, events and the reminders sent");
  show->add_option("id", *show_id, "case id, e.g. CASE-2026-000001")->required();
  show->callback([show_id, run] { run("case.show", {{"id", *show_id}}, print_case); });

  struct ListArgs {
    std::string state, kind;
    bool overdue = false;
    int limit = 1000;
  };
  auto* l = &hold<ListArgs>();
  auto* list = cases->add_subcommand("list", "List cases (no notes)");
  list->add_option("--state", l->state, "open or closed");
  list->add_option("--kind", l->kind, "hpan-review, exclusion, suspension, restriction, action-plan, follow-up");
  list->add_flag("--overdue", l->overdue, "only open cases past their due date");
  list->add_option("--limit", l->limit, "at most this many")->capture_default_str();
  list->callback([l, run] {
    json p = {{"limit", l->limit}};
    if (!l->state.empty()) p["state"] = l->state;
    if (!l->kind.empty()) p["kind"] = l->kind;
    if (l->overdue) p["overdue"] = true;
    run("case.list", p, [](const json& r) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : r["cases"])
        rows.push_back({text(c["id"]), text(c["kind"]), text(c["state"]), text(c["due_date"]),
                        c["overdue"].get<bool>() ? "OVERDUE" : "", c.contains("notice_id") ? text(c["notice_id"]) : "",
                        owner_text(c["owner"])});
      print_table({"CASE", "KIND", "STATE", "DUE", "", "NOTICE", "OWNER"}, rows);
    });
  });

  struct ReviewedArgs {
    std::string id, next_due, note;
  };
  auto* rv = &hold<ReviewedArgs>();
  auto* reviewed = cases->add_subcommand("reviewed", "Record a review; the due date moves on");
  reviewed->add_option("id", rv->id, "case id")->required();
  reviewed->add_option("--next-due", rv->next_due, "next review on YYYY-MM-DD (default: today + interval)");
  reviewed->add_option("--note", rv->note, "what the review found (kept with the case)");
  reviewed->callback([rv, run] {
    json p = {{"id", rv->id}};
    if (!rv->next_due.empty()) p["next_due"] = rv->next_due;
    if (!rv->note.empty()) p["note"] = rv->note;
    run("case.reviewed", p, [](const json& c) {
      std::cout << "case " << text(c["id"]) << " reviewed; next review due " << text(c["due_date"]) << "\n";
    });
  });

  struct CloseArgs {
    std::string id, reason;
  };
  auto* cl = &hold<CloseArgs>();
  auto* close = cases->add_subcommand("close", "Close a case; its reminders stop");
  close->add_option("id", cl->id, "case id")->required();
  close->add_option("--reason", cl->reason, "why it is closed")->required();
  close->callback([cl, run] {
    run("case.close", {{"id", cl->id}, {"reason", cl->reason}},
        [](const json& c) { std::cout << "case " << text(c["id"]) << " closed\n"; });
  });

  struct ReassignArgs {
    std::string id, owner;
  };
  auto* ra = &hold<ReassignArgs>();
  auto* reassign = cases->add_subcommand("reassign", "Send a case's reminders to a new owner");
  reassign->add_option("id", ra->id, "case id")->required();
  reassign->add_option("--owner", ra->owner, "email addresses and/or one webhook URL, comma-separated")->required();
  reassign->callback([ra, run] {
    run("case.reassign", {{"id", ra->id}, {"owner", ra->owner}}, [](const json& c) {
      std::cout << "case " << text(c["id"]) << " now goes to " << owner_text(c["owner"]) << "\n";
    });
  });

  auto* reminders = app.add_subcommand("reminders", "Case-review reminders");
  reminders->require_subcommand(1);
  auto* days = &hold<int>();
  *days = 14;
  auto* upcoming = reminders->add_subcommand("upcoming", "What will go out in the next N days");
  upcoming->add_option("--days", *days, "how far ahead (0-366)")->capture_default_str()->check(CLI::Range(0, 366));
  upcoming->callback([days, run] {
    run("reminders.upcoming", {{"days", *days}}, [](const json& r) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : r["reminders"]) {
        std::string to;
        for (const auto& t : m["to"]) to += (to.empty() ? "" : ", ") + text(t);
        if (m.contains("problem")) {
          rows.push_back({text(m["at"]), text(m["case_id"]), text(m["case_kind"]), "?", "none", text(m["problem"])});
          continue;
        }
        rows.push_back({text(m["at"]), text(m["case_id"]), text(m["case_kind"]), text(m["due_date"]),
                        text(m["reminder"]) + (m["late"].get<bool>() ? " (late)" : ""), to.empty() ? "(no one)" : to});
      }
      if (rows.empty()) {
        std::cout << "no reminders between " << text(r["from"]) << " and " << text(r["until"]) << "\n";
        return;
      }
      print_table({"AT", "CASE", "KIND", "DUE", "REMINDER", "TO"}, rows);
      if (r["truncated"].get<bool>()) std::cout << "(more not shown)\n";
    });
  });
}

}  // namespace hpan::ctl
