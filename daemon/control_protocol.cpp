// The control protocol's request parsing (DESIGN §6), apart from the Asio server so
// that it can be fuzzed on its own (tests/fuzz/fuzz_control_request.cpp).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "alerts/params.h"
#include "daemon/control_server.h"

namespace hpan::daemon {

using nlohmann::json;

namespace {

// A SAX handler that only follows where the parser is, so that a line the parser
// refuses can be answered with the field it was in ("practitioner.full_name") and
// what was wrong, never with the offending bytes.
class ErrorLocator {
 public:
  bool null() { return value(); }
  bool boolean(bool /*unused*/) { return value(); }
  bool number_integer(json::number_integer_t /*unused*/) { return value(); }
  bool number_unsigned(json::number_unsigned_t /*unused*/) { return value(); }
  bool number_float(json::number_float_t /*unused*/, const std::string& /*unused*/) { return value(); }
  bool string(std::string& /*unused*/) { return value(); }
  bool binary(json::binary_t& /*unused*/) { return value(); }
  bool start_object(std::size_t /*unused*/) { return push(false); }
  bool start_array(std::size_t /*unused*/) { return push(true); }
  bool end_object() { return pop(); }
  bool end_array() { return pop(); }
  bool key(std::string& k) {
    levels_.back().key = k;
    levels_.back().has_key = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    const std::string what = ex.what();
    std::string kind = "not valid JSON";
    if (what.find("UTF-8") != std::string::npos) kind = "not valid UTF-8";
    else if (what.find("control character") != std::string::npos)
      kind = "a control character in a JSON string must be escaped";
    else if (what.find("surrogate") != std::string::npos) kind = "an unpaired UTF-16 surrogate escape";
    message_ = kind + " (at byte " + std::to_string(position) + ")";
    return false;
  }

  const std::string& message() const { return message_; }

  // The field the parser was in, named as errors name fields: relative to params, and
  // a notice's "content." or "changes." left out (docs/control-protocol.md).
  std::string field() const {
    std::vector<std::string> parts;
    for (const Level& l : levels_) {
      if (l.array) parts.push_back("[" + std::to_string(l.index) + "]");
      else if (l.has_key) parts.push_back(alerts::caller_key(l.key));
    }
    std::size_t first = 0;
    if (parts.size() > 1 && parts[0] == "params") ++first;
    if (first == 1 && parts.size() > 2 && (parts[1] == "content" || parts[1] == "changes")) ++first;
    std::string out;
    for (std::size_t i = first; i < parts.size(); ++i) {
      if (!out.empty() && parts[i].front() != '[') out += '.';
      out += parts[i];
    }
    return out;
  }

 private:
  struct Level {
    bool array = false;
    bool has_key = false;   // an object whose member's value is being read
    std::string key;
    std::size_t index = 0;  // an array's element being read
  };

  bool push(bool array) {
    levels_.push_back(Level{array, false, {}, 0});
    return true;
  }
  bool pop() {
    levels_.pop_back();
    return value();
  }
  // One value is complete: the enclosing object waits for a key, the array moves on.
  bool value() {
    if (levels_.empty()) return true;
    if (levels_.back().array) ++levels_.back().index;
    else levels_.back().has_key = false;
    return true;
  }

  std::vector<Level> levels_;
  std::string message_ = "not valid JSON";
};

}  // namespace

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
  if (j.is_discarded()) {
    ErrorLocator where;
    json::sax_parse(line.begin(), line.end(), &where);
    return make_error("parse_error", where.message(), where.field());
  }
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
      return make_error("invalid_request", "unknown member " + alerts::caller_key(k), alerts::caller_key(k));
  }
  return req;
}

}  // namespace hpan::daemon
