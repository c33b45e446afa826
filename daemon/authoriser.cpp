#include "daemon/authoriser.h"

#include <algorithm>

namespace hpan::daemon {

std::optional<Role> authorise(const std::vector<RoleRule>& rules, const PeerCredentials& peer) {
  std::optional<Role> best;
  auto has_group = [&peer](gid_t g) {
    return std::find(peer.groups.begin(), peer.groups.end(), g) != peer.groups.end();
  };
  for (const auto& rule : rules) {
    bool match = false;
    switch (rule.kind) {
      case RoleRule::Kind::uid: match = peer.uid == rule.id; break;
      case RoleRule::Kind::gid: match = has_group(rule.id); break;
      case RoleRule::Kind::user: match = !peer.user_name.empty() && peer.user_name == rule.name; break;
      case RoleRule::Kind::group: {
        auto g = group_id(rule.name);  // looked up each time: groups may change without a restart
        match = g.ok() && has_group(*g);
        break;
      }
    }
    if (match && (!best || role_allows(rule.role, *best))) best = rule.role;
  }
  return best;
}

}  // namespace hpan::daemon
