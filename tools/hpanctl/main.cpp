// hpanctl: the administrators' client for hpand's control socket.
#include <cstdlib>
#include <iostream>

#include "tools/hpanctl/cli.h"

int main(int argc, char** argv) {
  using namespace hpan::ctl;
  CLI::App app{"hpanctl: manage Healthcare Professional Alert Notices through hpand's control socket",
               "hpanctl"};
  app.require_subcommand(1);
  app.fallthrough();  // --socket, --json, --timeout also after the sub-command
  app.set_version_flag("--version", "hpanctl 0.1.0");
  Options opts;
  if (const char* env = std::getenv("HPANCTL_SOCKET"); env != nullptr && *env != '\0') opts.socket = env;
  app.add_option("--socket", opts.socket, "control socket path (env HPANCTL_SOCKET)")
      ->capture_default_str();
  app.add_flag("--json", opts.json, "machine-readable JSON output");
  app.add_option("--timeout", opts.timeout_seconds, "seconds to wait for hpand")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.footer(
      "Exit codes: 0 ok, 1 failed, 2 usage, 3 invalid request, 4 not found, 5 not allowed in this\n"
      "state (illegal transition, maker-checker), 6 forbidden, 7 hpand unreachable, 8 audit\n"
      "verification failed, 9 storage error.");
  int code = kOk;
  add_notice_commands(app, opts, code);
  add_body_commands(app, opts, code);
  add_audit_commands(app, opts, code);
  add_delivery_commands(app, opts, code);
  add_case_commands(app, opts, code);
  add_misc_commands(app, opts, code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  } catch (const std::exception& e) {
    // An answer of an unexpected shape must not abort with a core dump.
    std::cerr << "hpanctl: unexpected answer from hpand: " << e.what() << "\n";
    return kFailed;
  }
  return code;
}
