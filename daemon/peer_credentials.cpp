#include "daemon/peer_credentials.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hpan::daemon {

Result<PeerCredentials> peer_credentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return make_error("peer_credentials", std::string("SO_PEERCRED: ") + std::strerror(errno));
  PeerCredentials p;
  p.uid = cred.uid;
  p.gid = cred.gid;
  p.pid = cred.pid;
  p.groups.push_back(cred.gid);
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(cred.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    p.user_name = pw.pw_name;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n));
      ::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    for (gid_t g : groups)
      if (std::find(p.groups.begin(), p.groups.end(), g) == p.groups.end()) p.groups.push_back(g);
  }
  return p;
}

Result<gid_t> group_id(const std::string& name) {
  std::vector<char> buf(16384);
  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return make_error("unknown_group", "no group named " + name, "control.socket_group");
  return gr.gr_gid;
}

}  // namespace hpan::daemon
