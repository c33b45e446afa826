#pragma once
// Who did something: a control-socket peer (uid and user name from SO_PEERCRED) or
// hpand itself.

#include <cstdint>
#include <string>

namespace hpan::alerts {

struct Actor {
  std::uint32_t uid = 0;
  std::string user;  // user name; "hpand" for the daemon itself
  bool system = false;

  static Actor daemon() { return Actor{0, "hpand", true}; }
  // Same person, for the maker-checker rule: the uid decides.
  bool same_person(const Actor& other) const { return !system && !other.system && uid == other.uid; }
};

}  // namespace hpan::alerts
