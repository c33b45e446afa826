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

}  // namespace
}  // namespace hpan::daemon
