#include "alerts/params.h"

#include <algorithm>

#include "alerts/notice_content.h"

namespace hpan::alerts {

Result<std::string> param_string(const nlohmann::json& params, std::string_view key, bool required,
                                 std::size_t max_chars, bool multiline) {
  const std::string field(key);
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) {
    if (required) return make_error("missing_field", "is required", field);
    return std::string();
  }
  if (!it->is_string()) return make_error("invalid_field", "expected a string", field);
  std::string s = it->get<std::string>();
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
      return make_error("invalid_field", "contains a control character", field);
  }
  if (utf8_length(s) > max_chars)
    return make_error("invalid_field", "longer than " + std::to_string(max_chars) + " characters",
                      field);
  if (required && s.find_first_not_of(" \t\n") == std::string::npos)
    return make_error("missing_field", "must not be empty", field);
  return s;
}

Result<bool> param_bool(const nlohmann::json& params, std::string_view key, bool fallback) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return make_error("invalid_field", "expected true or false", std::string(key));
  return it->get<bool>();
}

Result<std::int64_t> param_int(const nlohmann::json& params, std::string_view key,
                               std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    return make_error("invalid_field", "expected a whole number", std::string(key));
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max)
    return make_error("invalid_field",
                      "expected " + std::to_string(min) + " to " + std::to_string(max),
                      std::string(key));
  return v;
}

Status param_only(const nlohmann::json& params, std::initializer_list<std::string_view> known) {
  if (!params.is_object()) return make_error("invalid_request", "params must be an object", "params");
  for (const auto& [k, _] : params.items()) {
    if (std::find(known.begin(), known.end(), k) == known.end())
      return make_error("invalid_field", "unknown parameter", k);
  }
  return {};
}

}  // namespace hpan::alerts
