// hpanctl body ...
#include <fstream>
#include <iostream>
#include <iterator>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

namespace {

void print_body(const json& b) {
  print_fields(b, {"id", "name", "kind", "region", "regulator", "state", "receives", "webhook_url",
                   "webhook_secret", "emails", "fingerprint", "added_at", "deliveries_queued",
                   "deliveries_cancelled", "deliveries"});
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("usage", "cannot read " + path, "file");
  std::string data((std::istreambuf_iterator<char>(in)), {});
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  return data;
}

}  // namespace

void add_body_commands(CLI::App& app, Options& opts, int& code) {
  auto* body = app.add_subcommand("body", "Recipient bodies: add, suspend, resume, remove, list, show");
  body->require_subcommand(1);

  struct AddArgs {
    std::string id, name, kind, region, regulator, webhook_url, secret_file, key_file;
    std::string receives = "selected";
    std::vector<std::string> emails;
  };
  auto* a = &hold<AddArgs>();
  auto* add = body->add_subcommand("add", "Register a body; it is queued every active notice it should have");
  add->add_option("--id", a->id, "ODS code or assigned code (letters, digits, - and _)")->required();
  add->add_option("--name", a->name, "organisation name")->required();
  add->add_option("--kind", a->kind,
                  "trust, icb, health_board, gp_practice, independent, regulator, national, "
                  "regional, subject, other")
      ->required();
  add->add_option("--region", a->region, "region");
  add->add_option("--regulator", a->regulator, "for --kind regulator: GMC, GDC, GPhC, NMC, HCPC, PSNI");
  add->add_option("--webhook-url", a->webhook_url, "https:// endpoint for notices");
  add->add_option("--webhook-secret-file", a->secret_file,
                  "file holding a shared secret (base64, optionally whsec_...) for v1 HMAC signatures");
  add->add_option("--email", a->emails, "email address (repeat for several)");
  add->add_option("--public-key", a->key_file, "the body's recipient public key file (hpan-keygen)")
      ->required();
  add->add_option("--receives", a->receives, "all (standing distribution list) or selected")
      ->check(CLI::IsMember({"all", "selected"}));
  add->callback([&opts, &code, a] {
    auto key = read_text_file(a->key_file);
    if (!key) {
      code = report_error(opts, key.error());
      return;
    }
    json p = {{"id", a->id},   {"name", a->name},       {"kind", a->kind},
              {"public_key", *key}, {"receives", a->receives}, {"emails", a->emails}};
    if (!a->region.empty()) p["region"] = a->region;
    if (!a->regulator.empty()) p["regulator"] = a->regulator;
    if (!a->webhook_url.empty()) p["webhook_url"] = a->webhook_url;
    if (!a->secret_file.empty()) {
      auto secret = read_text_file(a->secret_file);
      if (!secret) {
        code = report_error(opts, secret.error());
        return;
      }
      p["webhook_secret"] = *secret;
    }
    code = call_and_print(opts, "body.add", p, print_body);
  });

  for (const char* verb : {"suspend", "resume", "remove"}) {
    const std::string help = std::string(verb) == "suspend"
                                 ? "Hold every delivery to a body until it is resumed"
                             : std::string(verb) == "resume"
                                 ? "Resume deliveries; the body receives what it missed"
                                 : "Remove a body; its pending deliveries are cancelled";
    auto* cmd = body->add_subcommand(verb, help);
    auto* id = &hold<std::string>();
    auto* reason = &hold<std::string>();
    cmd->add_option("id", *id, "body id")->required();
    cmd->add_option("--reason", *reason, "reason (recorded in the audit log)");
    const std::string method = std::string("body.") + verb;
    cmd->callback([&opts, &code, id, reason, method] {
      json p = {{"id", *id}};
      if (!reason->empty()) p["reason"] = *reason;
      code = call_and_print(opts, method, p, print_body);
    });
  }

  auto* show = body->add_subcommand("show", "Show one body and its delivery counts");
  auto* show_id = &hold<std::string>();
  show->add_option("id", *show_id, "body id")->required();
  show->callback([&opts, &code, show_id] { code = call_and_print(opts, "body.show", {{"id", *show_id}}, print_body); });

  auto* list = body->add_subcommand("list", "List bodies (removed ones only with --state removed)");
  auto* state = &hold<std::string>();
  list->add_option("--state", *state, "active, suspended or removed");
  list->callback([&opts, &code, state] {
    json p = json::object();
    if (!state->empty()) p["state"] = *state;
    code = call_and_print(opts, "body.list", p, [](const json& r) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& b : r["bodies"]) {
        std::string channels;
        if (!text(b["webhook_url"]).empty()) channels = "webhook";
        if (!b["emails"].empty()) channels += channels.empty() ? "email" : "+email";
        rows.push_back({text(b["id"]), text(b["name"]), text(b["kind"]), text(b["receives"]),
                        text(b["state"]), channels, text(b["fingerprint"])});
      }
      print_table({"ID", "NAME", "KIND", "RECEIVES", "STATE", "CHANNELS", "KEY"}, rows);
    });
  });
}

}  // namespace hpan::ctl
