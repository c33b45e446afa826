// hpanctl deliveries list | show | retry
#include <iostream>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

void add_delivery_commands(CLI::App& app, Options& opts, int& code) {
  auto* deliveries = app.add_subcommand("deliveries", "The outbox: what was sent where, every attempt, retries");
  deliveries->require_subcommand(1);
  auto run = [&opts, &code](const std::string& method, const json& params,
                            const std::function<void(const json&)>& human) {
    code = call_and_print(opts, method, params, human);
  };

  struct ListArgs {
    std::string state, notice, body;
    int limit = 1000;
  };
  auto* a = &hold<ListArgs>();
  auto* list = deliveries->add_subcommand("list", "List deliveries");
  list->add_option("--state", a->state, "pending, in_flight, delivered, failed, dead or cancelled");
  list->add_option("--notice", a->notice, "only this notice");
  list->add_option("--body", a->body, "only this body");
  list->add_option("--limit", a->limit, "at most this many")->capture_default_str();
  list->callback([a, run] {
    json p = {{"limit", a->limit}};
    if (!a->state.empty()) p["state"] = a->state;
    if (!a->notice.empty()) p["notice_id"] = a->notice;
    if (!a->body.empty()) p["body_id"] = a->body;
    run("deliveries.list", p, [](const json& r) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : r["deliveries"])
        rows.push_back({text(d["delivery_id"]), text(d["state"]), text(d["attempts"]),
                        text(d["state"]) == "delivered" ? text(d["delivered_at"]) : text(d["next_attempt_at"]),
                        text(d["last_error"]).substr(0, 60)});
      print_table({"DELIVERY", "STATE", "ATTEMPTS", "DELIVERED / NEXT", "LAST ERROR"}, rows);
    });
  });

  auto* show = deliveries->add_subcommand("show", "One delivery and each attempt's time, outcome and detail");
  auto* id = &hold<std::string>();
  show->add_option("id", *id, "delivery id")->required();
  show->callback([id, run] {
    run("deliveries.show", {{"id", *id}}, [](const json& d) {
      print_fields(d, {"delivery_id", "notice_id", "version", "body_id", "channel", "message_type", "state",
                       "attempts", "created_at", "next_attempt_at", "delivered_at", "last_error"});
      std::vector<std::vector<std::string>> rows;
      for (const auto& at : d["attempt_log"])
        rows.push_back({text(at["attempt"]), text(at["at"]), text(at["outcome"]), text(at["detail"])});
      std::cout << "\n";
      print_table({"ATTEMPT", "AT", "OUTCOME", "DETAIL"}, rows);
    });
  });

  auto* retry = deliveries->add_subcommand("retry", "Bring a dead delivery (or all dead ones) back to pending");
  auto* retry_id = &hold<std::string>();
  auto* all_dead = &hold<bool>();
  retry->add_option("id", *retry_id, "delivery id");
  retry->add_flag("--all-dead", *all_dead, "every dead delivery");
  retry->callback([retry_id, all_dead, run] {
    json p = json::object();
    if (!retry_id->empty()) p["id"] = *retry_id;
    if (*all_dead) p["all_dead"] = true;
    run("deliveries.retry", p, [](const json& r) { std::cout << "requeued " << text(r["requeued"]) << " delivery(ies)\n"; });
  });
}

}  // namespace hpan::ctl
