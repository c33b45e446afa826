#include "alerts/notice_content.h"

#include "alerts/calendar.h"
#include "alerts/params.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace hpan::alerts {
namespace {

using nlohmann::json;

constexpr std::array kProfessions = {"doctor", "dentist", "pharmacist", "nurse", "midwife",
                                     "allied_health_professional", "other", "bogus"};
constexpr std::array kRegulators = {"GMC", "GDC", "GPhC", "NMC", "HCPC", "PSNI", "none"};
constexpr std::array kCategories = {"clinical", "behaviour", "health", "conduct", "other"};
constexpr std::array kRequesterRoles = {"executive_board_member", "authorised_deputy"};

template <std::size_t N>
std::string join(const std::array<const char*, N>& values) {
  std::string out;
  for (const char* v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

template <std::size_t N>
bool one_of(const std::array<const char*, N>& values, std::string_view s) {
  return std::any_of(values.begin(), values.end(), [&](const char* v) { return s == v; });
}

// Walks one object, checking each field and collecting the normalised result.
class Checker {
 public:
  Checker(const json& in, std::string prefix) : in_(in), prefix_(std::move(prefix)) {}

  // Refuses fields not in `known`.
  Status only(std::initializer_list<std::string_view> known) const {
    if (!in_.is_object()) return make_error("invalid_field", "expected an object", prefix_);
    for (const auto& [key, _] : in_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end())
        return make_error("invalid_field", "unknown field", path(caller_key(key)));
    }
    return {};
  }

  // A text field: required or not, bounded length, nothing text_problem refuses
  // (newlines and tabs only when `multiline`).
  Result<std::string> text(std::string_view key, bool required, std::size_t max_chars,
                           bool multiline = false) const {
    auto it = in_.find(key);
    if (it == in_.end() || it->is_null()) {
      if (required) return make_error("missing_field", "is required", path(key));
      return std::string();
    }
    if (!it->is_string()) return make_error("invalid_field", "expected a string", path(key));
    std::string s = it->get<std::string>();
    if (required && s.find_first_not_of(" \t\r\n") == std::string::npos)
      return make_error("missing_field", "must not be empty", path(key));
    if (const auto problem = text_problem(s, multiline); !problem.empty())
      return make_error("invalid_field", std::string(problem), path(key));
    if (utf8_length(s) > max_chars)
      return make_error("invalid_field", "longer than " + std::to_string(max_chars) + " characters",
                        path(key));
    return s;
  }

  template <std::size_t N>
  Result<std::string> choice(std::string_view key, bool required,
                             const std::array<const char*, N>& values,
                             std::string_view fallback = {}) const {
    auto t = text(key, required, 64);
    if (!t) return t;
    if (t->empty() && !required) return std::string(fallback);
    if (!one_of(values, *t))
      return make_error("invalid_field", "expected one of " + join(values), path(key));
    return t;
  }

  Result<bool> boolean(std::string_view key) const {
    auto it = in_.find(key);
    if (it == in_.end() || it->is_null()) return false;
    if (!it->is_boolean()) return make_error("invalid_field", "expected true or false", path(key));
    return it->get<bool>();
  }

  Result<std::vector<std::string>> text_list(std::string_view key, std::size_t max_items,
                                             std::size_t max_chars) const {
    std::vector<std::string> out;
    auto it = in_.find(key);
    if (it == in_.end() || it->is_null()) return out;
    if (!it->is_array()) return make_error("invalid_field", "expected a list", path(key));
    if (it->size() > max_items)
      return make_error("invalid_field", "more than " + std::to_string(max_items) + " entries",
                        path(key));
    for (std::size_t i = 0; i < it->size(); ++i) {
      json wrapper = json::object({{"v", (*it)[i]}});
      Checker item(wrapper, path(key) + "[" + std::to_string(i) + "]");
      auto t = item.text("v", true, max_chars);
      if (!t) return make_error(t.error().code, t.error().message, item.prefix_);
      out.push_back(std::move(*t));
    }
    return out;
  }

  const json* object(std::string_view key) const {
    auto it = in_.find(key);
    return it == in_.end() || it->is_null() ? nullptr : &*it;
  }

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

 private:
  const json& in_;
  std::string prefix_;
};

const json kEmptyObject = json::object();

// A real calendar date YYYY-MM-DD from 1900 on.
bool valid_date(std::string_view s) {
  const auto d = parse_date(s);
  return d && d->year() >= std::chrono::year{1900};
}

bool valid_body_id(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

Result<json> practitioner(const json& in) {
  Checker c(in, "practitioner");
  HPAN_TRY(c.only({"full_name", "other_names", "profession", "regulator", "registration_number",
                   "date_of_birth", "addresses"}));
  HPAN_TRY_ASSIGN(full_name, c.text("full_name", true, kMaxNameChars));
  HPAN_TRY_ASSIGN(other_names, c.text_list("other_names", 20, kMaxNameChars));
  HPAN_TRY_ASSIGN(profession, c.choice("profession", true, kProfessions));
  HPAN_TRY_ASSIGN(regulator, c.choice("regulator", false, kRegulators, "none"));
  HPAN_TRY_ASSIGN(number, c.text("registration_number", false, 32));
  HPAN_TRY_ASSIGN(dob, c.text("date_of_birth", false, 10));
  HPAN_TRY_ASSIGN(addresses, c.text_list("addresses", 10, 500));
  if (regulator != "none" && number.empty())
    return make_error("missing_field", "is required when a regulator is given",
                      "practitioner.registration_number");
  if (!number.empty() && !std::all_of(number.begin(), number.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-';
      }))
    return make_error("invalid_field", "expected letters, digits and hyphens",
                      "practitioner.registration_number");
  if (!dob.empty() && !valid_date(dob))
    return make_error("invalid_field", "expected a date YYYY-MM-DD", "practitioner.date_of_birth");
  return json{{"full_name", full_name},     {"other_names", other_names},
              {"profession", profession},   {"regulator", regulator},
              {"registration_number", number}, {"date_of_birth", dob},
              {"addresses", addresses}};
}

Result<json> concern(const json& in) {
  Checker c(in, "concern");
  HPAN_TRY(c.only({"categories", "description"}));
  HPAN_TRY_ASSIGN(categories, c.text_list("categories", kCategories.size(), 32));
  if (categories.empty())
    return make_error("missing_field", "at least one category is required", "concern.categories");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < categories.size(); ++i) {
    const std::string field = "concern.categories[" + std::to_string(i) + "]";
    if (!one_of(kCategories, categories[i]))
      return make_error("invalid_field", "expected one of " + join(kCategories), field);
    if (!seen.insert(categories[i]).second)
      return make_error("invalid_field", "category given twice", field);
  }
  HPAN_TRY_ASSIGN(description, c.text("description", true, kMaxDescriptionChars, true));
  return json{{"categories", categories}, {"description", description}};
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string name_key(std::string_view full_name) {
  std::string out;
  bool space = false;
  for (char ch : full_name) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      space = true;
    }
  }
  return out;
}

Result<json> normalise_content(const json& input) {
  if (!input.is_object()) return make_error("invalid_field", "expected an object", "content");
  Checker c(input, "");
  HPAN_TRY(c.only({"practitioner", "concern", "requesting_body", "requester", "contact",
                   "criteria", "public_interest", "recipients", "subject_body_id"}));

  const json* p = c.object("practitioner");
  if (p == nullptr) return make_error("missing_field", "is required", "practitioner");
  HPAN_TRY_ASSIGN(pr, practitioner(*p));

  const json* cn = c.object("concern");
  if (cn == nullptr) return make_error("missing_field", "is required", "concern");
  HPAN_TRY_ASSIGN(co, concern(*cn));

  const json* rb = c.object("requesting_body");
  if (rb == nullptr) return make_error("missing_field", "is required", "requesting_body");
  Checker rbc(*rb, "requesting_body");
  HPAN_TRY(rbc.only({"id", "name"}));
  HPAN_TRY_ASSIGN(rb_id, rbc.text("id", true, 16));
  if (!valid_body_id(rb_id))
    return make_error("invalid_field", "expected a body id (letters, digits, - and _)",
                      "requesting_body.id");
  HPAN_TRY_ASSIGN(rb_name, rbc.text("name", false, kMaxNameChars));

  const json* rq = c.object("requester");
  if (rq == nullptr) return make_error("missing_field", "is required", "requester");
  Checker rqc(*rq, "requester");
  HPAN_TRY(rqc.only({"name", "role"}));
  HPAN_TRY_ASSIGN(rq_name, rqc.text("name", true, kMaxNameChars));
  HPAN_TRY_ASSIGN(rq_role, rqc.choice("role", true, kRequesterRoles));

  const json* ct = c.object("contact");
  Checker ctc(ct ? *ct : kEmptyObject, "contact");
  HPAN_TRY(ctc.only({"name", "email", "phone"}));
  HPAN_TRY_ASSIGN(ct_name, ctc.text("name", false, kMaxNameChars));
  HPAN_TRY_ASSIGN(ct_email, ctc.text("email", false, 254));
  HPAN_TRY_ASSIGN(ct_phone, ctc.text("phone", false, 32));
  if (!ct_email.empty() && (ct_email.find('@') == std::string::npos ||
                            ct_email.find(' ') != std::string::npos))
    return make_error("invalid_field", "expected an email address", "contact.email");

  const json* cr = c.object("criteria");
  Checker crc(cr ? *cr : kEmptyObject, "criteria");
  HPAN_TRY(crc.only({"significant_risk", "may_work_elsewhere", "pressing_need"}));
  HPAN_TRY_ASSIGN(risk, crc.boolean("significant_risk"));
  HPAN_TRY_ASSIGN(elsewhere, crc.boolean("may_work_elsewhere"));
  HPAN_TRY_ASSIGN(pressing, crc.boolean("pressing_need"));

  const json* pi = c.object("public_interest");
  Checker pic(pi ? *pi : kEmptyObject, "public_interest");
  HPAN_TRY(pic.only({"outweighs_adverse_effect", "reason"}));
  HPAN_TRY_ASSIGN(outweighs, pic.boolean("outweighs_adverse_effect"));
  HPAN_TRY_ASSIGN(pi_reason, pic.text("reason", false, kMaxDescriptionChars, true));

  HPAN_TRY_ASSIGN(recipients, c.text_list("recipients", 1000, 16));
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (!valid_body_id(recipients[i]))
      return make_error("invalid_field", "expected a body id",
                        "recipients[" + std::to_string(i) + "]");
  }
  // Keep the order given (errors name the index the caller sent); drop repeats.
  std::vector<std::string> unique_recipients;
  for (auto& r : recipients)
    if (std::find(unique_recipients.begin(), unique_recipients.end(), r) == unique_recipients.end())
      unique_recipients.push_back(std::move(r));
  recipients = std::move(unique_recipients);
  HPAN_TRY_ASSIGN(subject, c.text("subject_body_id", false, 16));
  if (!subject.empty() && !valid_body_id(subject))
    return make_error("invalid_field", "expected a body id", "subject_body_id");

  return json{
      {"practitioner", pr},
      {"concern", co},
      {"requesting_body", {{"id", rb_id}, {"name", rb_name}}},
      {"requester", {{"name", rq_name}, {"role", rq_role}}},
      {"contact", {{"name", ct_name}, {"email", ct_email}, {"phone", ct_phone}}},
      {"criteria",
       {{"significant_risk", risk}, {"may_work_elsewhere", elsewhere}, {"pressing_need", pressing}}},
      {"public_interest", {{"outweighs_adverse_effect", outweighs}, {"reason", pi_reason}}},
      {"recipients", recipients},
      {"subject_body_id", subject},
  };
}

Result<json> merge_content(const json& base, const json& changes) {
  if (!changes.is_object()) return make_error("invalid_field", "expected an object", "content");
  json merged = base;
  merged.merge_patch(changes);
  return normalise_content(merged);
}

Status check_ready_for_approval(const json& content) {
  for (const char* k : {"significant_risk", "may_work_elsewhere", "pressing_need"}) {
    if (!content["criteria"][k].get<bool>())
      return make_error("approval_requirements", "must be confirmed before approval",
                        std::string("criteria.") + k);
  }
  if (!content["public_interest"]["outweighs_adverse_effect"].get<bool>())
    return make_error("approval_requirements",
                      "the public-interest decision must be recorded before approval",
                      "public_interest.outweighs_adverse_effect");
  if (content["public_interest"]["reason"].get<std::string>().empty())
    return make_error("approval_requirements", "the public-interest reason is required",
                      "public_interest.reason");
  return {};
}

json purge_personal_data(const json& content) {
  json out = content;
  out["practitioner"] = {{"full_name", ""},   {"other_names", json::array()},
                         {"profession", content["practitioner"]["profession"]},
                         {"regulator", content["practitioner"]["regulator"]},
                         {"registration_number", ""}, {"date_of_birth", ""},
                         {"addresses", json::array()}};
  out["concern"]["description"] = "";
  out["requester"]["name"] = "";
  out["contact"] = {{"name", ""}, {"email", ""}, {"phone", ""}};
  out["public_interest"]["reason"] = "";
  return out;
}

}  // namespace hpan::alerts
