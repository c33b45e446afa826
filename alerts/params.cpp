#include "alerts/params.h"

#include <algorithm>

#include "alerts/notice_content.h"

namespace hpan::alerts {

std::string_view text_problem(std::string_view text, bool multiline) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = [&](std::size_t k) {
      return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
    };
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
      return "contains a control character";
    if (c == 0xc2 && next(1) >= 0x80 && next(1) <= 0x9f)  // U+0080-U+009F
      return "contains a control character";
    if (c == 0xe2 && next(1) == 0x80 && (next(2) == 0xa8 || next(2) == 0xa9))
      return "contains a line or paragraph separator (U+2028, U+2029)";
  }
  return {};
}

std::string caller_key(std::string_view key) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (std::size_t i = 0; i < key.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += key[i];
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (key.size() > kMax) out += "...";
  return out;
}

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
  if (const auto problem = text_problem(s, multiline); !problem.empty())
    return make_error("invalid_field", std::string(problem), field);
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
      return make_error("invalid_field", "unknown parameter", caller_key(k));
  }
  return {};
}

}  // namespace hpan::alerts
