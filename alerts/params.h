#pragma once
// Reading request params (a JSON object) with errors that name the field.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hpan::alerts {

// A string param. Missing or null: "" (or "missing_field" when required). Refuses
// non-strings, control characters (newlines allowed when `multiline`) and over-long text.
Result<std::string> param_string(const nlohmann::json& params, std::string_view key, bool required,
                                 std::size_t max_chars = 200, bool multiline = false);
Result<bool> param_bool(const nlohmann::json& params, std::string_view key, bool fallback = false);
Result<std::int64_t> param_int(const nlohmann::json& params, std::string_view key,
                               std::int64_t fallback, std::int64_t min, std::int64_t max);
// Refuses params that are not an object, or that hold keys outside `known`.
Status param_only(const nlohmann::json& params, std::initializer_list<std::string_view> known);

}  // namespace hpan::alerts
