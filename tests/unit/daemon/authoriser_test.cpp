#include "daemon/authoriser.h"

#include <gtest/gtest.h>

namespace hpan::daemon {
namespace {

PeerCredentials peer(uid_t uid, gid_t gid, std::string name, std::vector<gid_t> groups) {
  return PeerCredentials{uid, gid, 1, std::move(name), std::move(groups)};
}

RoleRule rule(RoleRule::Kind kind, std::string name, std::uint32_t id, Role role) {
  return RoleRule{kind, std::move(name), id, role};
}

TEST(Authoriser, NoMatchingRuleMeansNoRole) {
  EXPECT_FALSE(authorise({rule(RoleRule::Kind::uid, "", 1000, Role::viewer)}, peer(1001, 1001, "x", {1001})));
  EXPECT_FALSE(authorise({}, peer(0, 0, "root", {0})));
}

TEST(Authoriser, MatchesUidGidUserAndGroupNames) {
  EXPECT_EQ(authorise({rule(RoleRule::Kind::uid, "", 1001, Role::operator_)}, peer(1001, 5, "a", {5})), Role::operator_);
  EXPECT_EQ(authorise({rule(RoleRule::Kind::gid, "", 27, Role::viewer)}, peer(1001, 5, "a", {5, 27})), Role::viewer);
  EXPECT_EQ(authorise({rule(RoleRule::Kind::user, "alice", 0, Role::viewer)}, peer(1001, 5, "alice", {5})), Role::viewer);
  EXPECT_FALSE(authorise({rule(RoleRule::Kind::user, "alice", 0, Role::viewer)}, peer(1001, 5, "", {5})));
  // "root" is group 0 on every Debian system.
  EXPECT_EQ(authorise({rule(RoleRule::Kind::group, "root", 0, Role::administrator)}, peer(1001, 5, "a", {5, 0})),
            Role::administrator);
  EXPECT_FALSE(authorise({rule(RoleRule::Kind::group, "no-such-group-hpan", 0, Role::administrator)},
                         peer(1001, 5, "a", {5, 0})));
}

TEST(Authoriser, TheHighestMatchingRoleWins) {
  const std::vector<RoleRule> rules = {rule(RoleRule::Kind::gid, "", 5, Role::viewer),
                                       rule(RoleRule::Kind::uid, "", 1001, Role::administrator),
                                       rule(RoleRule::Kind::user, "a", 0, Role::operator_)};
  EXPECT_EQ(authorise(rules, peer(1001, 5, "a", {5})), Role::administrator);
  EXPECT_EQ(authorise(rules, peer(1002, 5, "b", {5})), Role::viewer);
}

}  // namespace
}  // namespace hpan::daemon
