// docs/control-protocol.md documents every method the dispatcher serves, with its role.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/dispatcher.h"

namespace hpan::daemon {
namespace {

TEST(ControlProtocolDoc, DocumentsEveryMethodWithItsRole) {
  const char* src = std::getenv("HPAN_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/docs/control-protocol.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& m : Dispatcher::methods()) {
    const std::string role(to_string(m.needs));
    const bool alone = doc.find("### " + std::string(m.name) + " (" + role + ")") != std::string::npos;
    const bool grouped = doc.find(std::string(m.name) + ",") != std::string::npos ||
                         doc.find(", " + std::string(m.name) + " (" + role) != std::string::npos;
    EXPECT_TRUE(alone || grouped) << m.name << " (" << role << ") is not documented";
  }
}

TEST(Dispatcher, StoreQueriesAreKnownMethodsThatChangeNothing) {
  int queries = 0;
  for (const auto& m : Dispatcher::methods()) {
    if (!Dispatcher::is_store_query(m.name)) continue;
    ++queries;
    EXPECT_FALSE(m.mutates) << m.name << " changes the store but would run on the read-only connection";
    EXPECT_EQ(Dispatcher::find(m.name), &m);
  }
  EXPECT_EQ(queries, 7);
  // Methods that read the audit tree, the keys, the reminder rules (reloaded on the loop)
  // or the daemon's state must stay on the loop.
  for (const char* loop_only : {"status", "audit.verify", "audit.proof", "keys.export", "reminders.upcoming"})
    EXPECT_FALSE(Dispatcher::is_store_query(loop_only)) << loop_only;
  EXPECT_EQ(Dispatcher::find("no.such.method"), nullptr);
}

}  // namespace
}  // namespace hpan::daemon
