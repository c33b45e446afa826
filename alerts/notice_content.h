#pragma once
// The content of a notice (DESIGN §2): practitioner, concern, requester, criteria,
// public-interest decision, chosen recipients. Held as a normalised JSON object in
// which every field is present; validated field by field with errors that name the
// field ("practitioner.date_of_birth").

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace hpan::alerts {

inline constexpr std::size_t kMaxDescriptionChars = 4000;
inline constexpr std::size_t kMaxNameChars = 200;

// Validates `input` (the "content" of a control request) and returns the normalised
// content: every field present, defaults filled in, unknown fields refused.
// Error code "invalid_field" with the field path, or "missing_field".
Result<nlohmann::json> normalise_content(const nlohmann::json& input);

// Applies `changes` (a partial content object) over `base` and re-validates.
Result<nlohmann::json> merge_content(const nlohmann::json& base, const nlohmann::json& changes);

// Before approval: the three criteria confirmed and the public-interest decision made
// with a reason. Error code "approval_requirements" naming the first unmet field.
Status check_ready_for_approval(const nlohmann::json& content);

// The content with every personal field erased (retention purge). Keeps structure.
nlohmann::json purge_personal_data(const nlohmann::json& content);

// Normalised name key for look-ups: lower case ASCII letters/digits, single spaces.
std::string name_key(std::string_view full_name);

// Length of UTF-8 text in code points (the text is already known to be valid UTF-8).
std::size_t utf8_length(std::string_view text);

}  // namespace hpan::alerts
