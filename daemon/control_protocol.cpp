// The control protocol's request parsing (DESIGN §6), apart from the Asio server so
// that it can be fuzzed on its own (tests/fuzz/fuzz_control_request.cpp).
#include <nlohmann/json.hpp>

#include "daemon/control_server.h"

namespace hpan::daemon {

using nlohmann::json;

bool json_depth_within(std::string_view line, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Result<ControlRequest> parse_request(std::string_view line, json& id_out) {
  id_out = nullptr;
  if (!json_depth_within(line, kMaxJsonDepth))
    return make_error("parse_error", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return make_error("parse_error", "not valid JSON (or not valid UTF-8)");
  if (!j.is_object()) return make_error("invalid_request", "a request is a JSON object", "");
  ControlRequest req;
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_string() && !it->is_number() && !it->is_null())
      return make_error("invalid_request", "id must be a string, a number or null", "id");
    req.id = *it;
    id_out = *it;
  }
  auto m = j.find("method");
  if (m == j.end() || !m->is_string() || m->get<std::string>().empty())
    return make_error("invalid_request", "method must be a non-empty string", "method");
  req.method = m->get<std::string>();
  auto p = j.find("params");
  if (p == j.end() || p->is_null()) {
    req.params = json::object();
  } else if (!p->is_object()) {
    return make_error("invalid_request", "params must be an object", "params");
  } else {
    req.params = std::move(*p);
  }
  for (const auto& [k, _] : j.items()) {
    if (k != "id" && k != "method" && k != "params")
      return make_error("invalid_request", "unknown member " + k.substr(0, 64), k.substr(0, 64));
  }
  return req;
}

}  // namespace hpan::daemon
