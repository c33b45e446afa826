#pragma once
// Shared pieces of hpanctl: options, the request call, output and exit codes.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace hpan::ctl {

// Exit codes (hpanctl(1), docs/control-protocol.md).
enum Exit : int {
  kOk = 0,
  kFailed = 1,         // any other error
  kUsage = 2,          // bad command line
  kInvalid = 3,        // the daemon refused a field or the request
  kNotFound = 4,       // no such notice, body or record
  kConflict = 5,       // not allowed in the current state (illegal transition, maker-checker)
  kForbidden = 6,      // the caller's role does not allow it
  kUnavailable = 7,    // cannot reach hpand (socket missing, refused, timeout)
  kVerifyFailed = 8,   // audit verify found a problem
  kStorage = 9,        // the daemon's storage failed (disk full, I/O)
};

struct Options {
  std::string socket = "/run/hpand/control.sock";
  bool json = false;
  double timeout_seconds = 10;
};

// Sends one request; on error prints it (one line, or JSON with --json) and returns
// the exit code through `exit_code`.
Result<nlohmann::json> rpc(const Options& opts, const std::string& method,
                           const nlohmann::json& params);

int exit_code_for(const Error& e);
// Prints an error as "hpanctl: <message> (field: f) [code]" or, with --json, as JSON.
int report_error(const Options& opts, const Error& e);
// Sends one request and prints the result (`human`, or JSON with --json) or the error;
// returns the exit code.
int call_and_print(const Options& opts, const std::string& method, const nlohmann::json& params,
                   const std::function<void(const nlohmann::json&)>& human);
// Prints `result` as JSON (with --json) or calls `human` to print it for people.
void print(const Options& opts, const nlohmann::json& result,
           const std::function<void(const nlohmann::json&)>& human);
// A simple text table: header row and rows, columns padded.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
// "key: value" lines for a flat object, in the given order.
void print_fields(const nlohmann::json& obj, const std::vector<std::string>& keys);
std::string text(const nlohmann::json& v);  // a JSON value as plain text
// Reads a JSON file ("-" = stdin); errors name the file and the line.
Result<nlohmann::json> read_json_file(const std::string& path);

// Storage that lives until exit for the values CLI11 options write into.
template <class T>
T& hold() {
  static std::vector<std::unique_ptr<T>> store;
  store.push_back(std::make_unique<T>());
  return *store.back();
}

// Each adds its sub-commands; the callback sets `code`.
void add_notice_commands(CLI::App& app, Options& opts, int& code);
void add_body_commands(CLI::App& app, Options& opts, int& code);
void add_audit_commands(CLI::App& app, Options& opts, int& code);
void add_misc_commands(CLI::App& app, Options& opts, int& code);
void add_delivery_commands(CLI::App& app, Options& opts, int& code);
void add_case_commands(CLI::App& app, Options& opts, int& code);

}  // namespace hpan::ctl
