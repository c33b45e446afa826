#pragma once
// Control-socket roles (DESIGN §6). Each role includes the ones below it:
// viewer (queries) < operator (bodies, cases, deliveries) < administrator (notices, keys).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hpan {

enum class Role : std::uint8_t { viewer = 1, operator_ = 2, administrator = 3 };

inline std::string_view to_string(Role r) {
  switch (r) {
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::administrator: return "administrator";
  }
  return "unknown";
}

inline std::optional<Role> parse_role(std::string_view s) {
  if (s == "viewer") return Role::viewer;
  if (s == "operator") return Role::operator_;
  if (s == "administrator") return Role::administrator;
  return std::nullopt;
}

// True when a peer holding `held` may call a method that needs `needed`.
inline bool role_allows(Role held, Role needed) {
  return static_cast<std::uint8_t>(held) >= static_cast<std::uint8_t>(needed);
}

// One line of control.roles in the config: who gets which role. Keys in YAML:
//   "<group name>" or "group:<name>", "user:<name>", "uid:<n>", "gid:<n>".
struct RoleRule {
  enum class Kind : std::uint8_t { group, user, uid, gid };
  Kind kind = Kind::group;
  std::string name;     // for group/user
  std::uint32_t id = 0; // for uid/gid
  Role role = Role::viewer;
};

}  // namespace hpan
