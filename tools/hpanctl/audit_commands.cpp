// hpanctl audit verify | proof N | export DIR; keys export | rotate; status; call
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

namespace {

// Writes `data` to `path` (mode 0640), refusing to follow a symlink.
Status write_file(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return make_error("io_error", "cannot write " + path.string(), "dir");
  out << data;
  out.close();
  if (!out) return make_error("io_error", "cannot write " + path.string(), "dir");
  ::chmod(path.c_str(), 0640);
  return {};
}

}  // namespace

void add_audit_commands(CLI::App& app, Options& opts, int& code) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);

  auto* verify = audit->add_subcommand("verify", "Recompute the Merkle tree and check every signed checkpoint");
  verify->callback([&opts, &code] {
    auto r = rpc(opts, "audit.verify", json::object());
    if (!r) {
      code = report_error(opts, r.error());
      return;
    }
    print(opts, *r, [](const json& v) {
      if (v["ok"].get<bool>()) {
        std::cout << "audit log verified: " << text(v["records"]) << " records, "
                  << text(v["checkpoints"]) << " signed checkpoints, root " << text(v["root"])
                  << "\n";
      } else {
        std::cout << "AUDIT LOG VERIFICATION FAILED: " << text(v["problem"]) << "\n";
        if (!v["first_bad_record"].is_null())
          std::cout << "first bad record: " << text(v["first_bad_record"]) << "\n";
      }
    });
    code = (*r)["ok"].get<bool>() ? kOk : kVerifyFailed;
  });

  auto* proof = audit->add_subcommand("proof", "Inclusion proof of record N in the latest checkpoint");
  auto* index = &hold<std::int64_t>();
  proof->add_option("index", *index, "record number (0-based)")->required()->check(CLI::NonNegativeNumber);
  proof->callback([&opts, &code, index] {
    code = call_and_print(opts, "audit.proof", {{"index", *index}}, [](const json& p) {
      print_fields(p, {"index", "size", "leaf_hash", "root"});
      std::cout << "record:    " << text(p["record"]) << "\nproof:\n";
      for (const auto& h : p["proof"]) std::cout << "  " << text(h) << "\n";
      std::cout << "checkpoint:\n" << text(p["checkpoint"]);
    });
  });

  auto* exp = audit->add_subcommand("export", "Write every record and checkpoint to DIR for an outside auditor");
  auto* dir = &hold<std::string>();
  exp->add_option("dir", *dir, "output folder (created)")->required();
  exp->callback([&opts, &code, dir] {
    std::error_code ec;
    std::filesystem::create_directories(*dir, ec);
    if (ec) {
      code = report_error(opts, make_error("io_error", "cannot create " + *dir + ": " + ec.message(), "dir"));
      return;
    }
    std::string records;
    json checkpoints, keyset;
    std::int64_t from = 0;
    std::int64_t total = 0;
    while (true) {
      auto r = rpc(opts, "audit.export", {{"from", from}, {"limit", 5000}});
      if (!r) {
        code = report_error(opts, r.error());
        return;
      }
      for (const auto& rec : (*r)["records"]) records += rec.get<std::string>() + "\n";
      checkpoints = (*r)["checkpoints"];
      const auto n = static_cast<std::int64_t>((*r)["records"].size());
      total += n;
      from += n;
      if (n == 0 || from >= (*r)["size"].get<std::int64_t>()) break;
    }
    auto keys = rpc(opts, "keys.export", json::object());
    if (!keys) {
      code = report_error(opts, keys.error());
      return;
    }
    const std::filesystem::path d(*dir);
    std::string notes;
    for (const auto& c : checkpoints) notes += c["note"].get<std::string>() + "\n";
    for (auto st : {write_file(d / "records.jsonl", records), write_file(d / "checkpoints.txt", notes),
                    write_file(d / "keyset.json", (*keys)["keyset"].dump() + "\n"),
                    write_file(d / "origin.txt", text((*keys)["audit_origin"]) + "\n")}) {
      if (!st) {
        code = report_error(opts, st.error());
        return;
      }
    }
    print(opts, json{{"dir", *dir}, {"records", total}, {"checkpoints", checkpoints.size()}},
          [](const json& r) {
            std::cout << "exported " << text(r["records"]) << " records and " << text(r["checkpoints"])
                      << " checkpoints to " << text(r["dir"])
                      << " (records.jsonl, checkpoints.txt, keyset.json, origin.txt)\n";
          });
    code = kOk;
  });
}

void add_misc_commands(CLI::App& app, Options& opts, int& code) {
  auto* keys = app.add_subcommand("keys", "The issuer's signing keys");
  keys->require_subcommand(1);
  auto* exp = keys->add_subcommand("export", "Write the public keyset that recipients verify with");
  auto* out = &hold<std::string>();
  exp->add_option("--out", *out, "file to write (default: print)");
  exp->callback([&opts, &code, out] {
    auto r = rpc(opts, "keys.export", json::object());
    if (!r) {
      code = report_error(opts, r.error());
      return;
    }
    const std::string keyset = (*r)["keyset"].dump();
    if (!out->empty()) {
      std::ofstream f(*out, std::ios::trunc);
      f << keyset << "\n";
      if (!f) {
        code = report_error(opts, make_error("io_error", "cannot write " + *out, "out"));
        return;
      }
      if (!opts.json) std::cerr << "wrote " << *out << "\n";
    } else {
      std::cout << keyset << "\n";
    }
    code = kOk;
  });
  auto* rotate = keys->add_subcommand("rotate", "Make a new signing key; earlier keys still verify");
  rotate->callback([&opts, &code] {
    auto r = rpc(opts, "keys.rotate", json::object());
    if (!r) {
      code = report_error(opts, r.error());
      return;
    }
    print(opts, *r, [](const json& v) {
      std::cout << "new signing key " << text(v["kid"]) << " (previous " << text(v["previous_kid"])
                << " still verifies); run `hpanctl keys export` and send the keyset to recipients\n";
    });
    code = kOk;
  });

  auto* status = app.add_subcommand("status", "Daemon status");
  status->callback([&opts, &code] {
    auto r = rpc(opts, "status", json::object());
    if (!r) {
      code = report_error(opts, r.error());
      return;
    }
    print(opts, *r, [](const json& s) {
      for (const auto& [k, v] : s.items()) std::cout << k << ": " << text(v) << "\n";
    });
    code = kOk;
  });

  auto* call = app.add_subcommand("call", "Send one raw request (for scripts): METHOD [PARAMS_JSON]");
  auto* method = &hold<std::string>();
  auto* params = &hold<std::string>();
  call->add_option("method", *method, "method name, e.g. notice.list")->required();
  call->add_option("params", *params, "params as a JSON object (default {})");
  call->callback([&opts, &code, method, params] {
    json p = json::object();
    if (!params->empty()) {
      try {
        p = json::parse(*params);
      } catch (const json::parse_error& e) {
        code = report_error(opts, make_error("usage", std::string("params: ") + e.what(), "params"));
        return;
      }
    }
    auto r = rpc(opts, *method, p);
    if (!r) {
      code = report_error(opts, r.error());
      return;
    }
    std::cout << r->dump() << "\n";
    code = kOk;
  });
}

}  // namespace hpan::ctl
