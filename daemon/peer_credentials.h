#pragma once
// Who is on the other end of a Unix socket: SO_PEERCRED plus the user's name and groups.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace hpan::daemon {

struct PeerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::string user_name;      // "" when the uid has no passwd entry
  std::vector<gid_t> groups;  // primary and supplementary groups of the user
};

// Reads the credentials of the peer connected to socket `fd`.
Result<PeerCredentials> peer_credentials(int fd);

// The gid of a group name, or an error naming it.
Result<gid_t> group_id(const std::string& name);

}  // namespace hpan::daemon
