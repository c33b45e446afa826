#pragma once
// Reading request params (a JSON object) with errors that name the field.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hpan::alerts {

// Why `text` may not be a text field's value, or "" when it may: a control character (C0
// but newline and tab when `multiline`, DEL, C1 U+0080-U+009F) or a Unicode line or
// paragraph separator (U+2028, U+2029), any of which could break or forge a line
// wherever the text is shown. The JSON parser has already refused invalid UTF-8.
std::string_view text_problem(std::string_view text, bool multiline);

// A key the caller sent (an unknown parameter), fit to name in an error's field and in
// logs: printable ASCII as it is, any other byte as \xNN, at most 64 bytes of the key.
std::string caller_key(std::string_view key);

// A string param. Missing or null: "" (or "missing_field" when required). Refuses
// non-strings, what text_problem refuses and over-long text.
Result<std::string> param_string(const nlohmann::json& params, std::string_view key, bool required,
                                 std::size_t max_chars = 200, bool multiline = false);
Result<bool> param_bool(const nlohmann::json& params, std::string_view key, bool fallback = false);
Result<std::int64_t> param_int(const nlohmann::json& params, std::string_view key,
                               std::int64_t fallback, std::int64_t min, std::int64_t max);
// Refuses params that are not an object, or that hold keys outside `known`.
Status param_only(const nlohmann::json& params, std::initializer_list<std::string_view> known);

}  // namespace hpan::alerts
