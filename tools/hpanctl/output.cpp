#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "tools/hpanctl/cli.h"

namespace hpan::ctl {

using nlohmann::json;

int exit_code_for(const Error& e) {
  const std::string& c = e.code;
  if (c == "invalid_field" || c == "missing_field" || c == "invalid_request" || c == "parse_error" ||
      c == "request_too_large" || c == "unknown_method")
    return kInvalid;
  if (c == "not_found") return kNotFound;
  if (c == "invalid_state" || c == "maker_checker" || c == "pending_change" ||
      c == "representation_period" || c == "not_informed" || c == "approval_requirements" ||
      c == "exists")
    return kConflict;
  if (c == "forbidden") return kForbidden;
  if (c == "connect_failed" || c == "timeout" || c == "protocol_error" || c == "disconnected")
    return kUnavailable;
  if (c.rfind("storage_", 0) == 0) return kStorage;
  if (c == "usage") return kUsage;
  return kFailed;
}

int report_error(const Options& opts, const Error& e) {
  if (opts.json) {
    json err = {{"code", e.code}, {"message", e.message}};
    if (!e.field.empty()) err["field"] = e.field;
    std::cout << json{{"error", err}}.dump() << "\n";
  }
  std::cerr << "hpanctl: " << e.message;
  if (!e.field.empty()) std::cerr << " (field: " << e.field << ")";
  std::cerr << " [" << e.code << "]\n";
  return exit_code_for(e);
}

std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + text(e);
    return out;
  }
  return v.dump();
}

void print(const Options& opts, const json& result, const std::function<void(const json&)>& human) {
  if (opts.json) {
    std::cout << result.dump() << "\n";
  } else {
    human(result);
  }
}

int call_and_print(const Options& opts, const std::string& method, const json& params,
                   const std::function<void(const json&)>& human) {
  auto r = rpc(opts, method, params);
  if (!r) return report_error(opts, r.error());
  print(opts, *r, human);
  return kOk;
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  if (rows.empty()) std::cout << "(none)\n";
}

void print_fields(const json& obj, const std::vector<std::string>& keys) {
  std::size_t w = 0;
  for (const auto& k : keys) w = std::max(w, k.size());
  for (const auto& k : keys) {
    if (!obj.contains(k)) continue;
    std::cout << k << ":" << std::string(w - k.size() + 1, ' ') << text(obj[k]) << "\n";
  }
}

Result<json> read_json_file(const std::string& path) {
  std::string data;
  if (path == "-") {
    data.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(path);
    if (!in) return make_error("usage", "cannot read " + path, "file");
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  try {
    return json::parse(data);
  } catch (const json::parse_error& e) {
    // e.byte is the offset; turn it into a line number.
    const auto upto = std::min<std::size_t>(e.byte, data.size());
    const auto line = 1 + std::count(data.begin(), data.begin() + static_cast<long>(upto), '\n');
    return make_error("usage", path + ":" + std::to_string(line) + ": not valid JSON (" +
                                   std::string(e.what()) + ")",
                      "file");
  }
}

}  // namespace hpan::ctl
