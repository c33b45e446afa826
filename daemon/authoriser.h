#pragma once
// control.roles → the role of a peer: the highest role any matching rule gives.

#include <optional>
#include <vector>

#include "common/role.h"
#include "daemon/peer_credentials.h"

namespace hpan::daemon {

std::optional<Role> authorise(const std::vector<RoleRule>& rules, const PeerCredentials& peer);

}  // namespace hpan::daemon
