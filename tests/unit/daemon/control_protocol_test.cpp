#include <gtest/gtest.h>

#include "daemon/control_server.h"

namespace hpan::daemon {
namespace {

using nlohmann::json;

TEST(ControlProtocol, ParsesARequestAndDefaultsParams) {
  json id;
  auto r = parse_request(R"({"id":"a1","method":"notice.list"})", id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, "a1");
  EXPECT_EQ(r->method, "notice.list");
  EXPECT_TRUE(r->params.is_object());
  EXPECT_TRUE(r->params.empty());
}

TEST(ControlProtocol, EchoesStringNumberAndNullIds) {
  for (const char* text : {R"({"id":7,"method":"status"})", R"({"id":null,"method":"status"})",
                           R"({"method":"status"})"}) {
    json id;
    auto r = parse_request(text, id);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(r->id, json::parse(text).value("id", json()));
  }
}

TEST(ControlProtocol, RefusesMalformedRequestsNamingTheField) {
  struct Case {
    std::string line, code, field;
  } cases[] = {
      {"{not json", "parse_error", ""},
      {"[1,2]", "invalid_request", ""},
      {R"({"id":1})", "invalid_request", "method"},
      {R"({"id":1,"method":42})", "invalid_request", "method"},
      {R"({"id":{"x":1},"method":"status"})", "invalid_request", "id"},
      {R"({"id":1,"method":"status","params":[1]})", "invalid_request", "params"},
      {R"({"id":1,"method":"status","extra":true})", "invalid_request", "extra"},
      {"{\"id\":1,\"method\":\"st\xff\xfe\"}", "parse_error", "method"},
  };
  for (const auto& c : cases) {
    json id;
    auto r = parse_request(c.line, id);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.error().code, c.code) << c.line;
    EXPECT_EQ(r.error().field, c.field) << c.line;
  }
}

TEST(ControlProtocol, AParseErrorNamesTheFieldAndWhatWasWrongButNotTheBytes) {
  struct Case {
    std::string line, field, message;
  } cases[] = {
      {"{\"id\":1,\"method\":\"notice.create\",\"params\":{\"content\":{\"practitioner\":"
       "{\"full_name\":\"Dr \xff\xfe\"}}}}",
       "practitioner.full_name", "not valid UTF-8"},
      {"{\"id\":1,\"method\":\"notice.review\",\"params\":{\"changes\":{\"practitioner\":"
       "{\"other_names\":[\"a\",\"b\\ud800\"]}}}}",
       "practitioner.other_names[1]", "surrogate"},
      {"{\"id\":1,\"method\":\"case.open\",\"params\":{\"kind\":\"exclusion\",\"owner\":\"a\rBcc: x\"}}",
       "owner", "control character"},
      {"{\"id\":1,\"method\":\"body.add\",\"params\":{\"emails\":[\"a@b\"],\"name\":\"\xc0\x8a\"}}",
       "name", "not valid UTF-8"},
      {"{\"id\":1,\"method\":\"status\",\"params\":{\"k\xff\":1}}", "params", "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    json id;
    auto r = parse_request(c.line, id);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.error().code, "parse_error") << c.line;
    EXPECT_EQ(r.error().field, c.field) << c.line;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("Bcc"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\xff'), std::string::npos) << r.error().message;
  }
}

TEST(ControlProtocol, RefusesDeepNestingWithoutRecursing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  json id;
  auto r = parse_request(deep, id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "parse_error");
  EXPECT_TRUE(json_depth_within(std::string(64, '[') + std::string(64, ']'), 64));
  EXPECT_FALSE(json_depth_within(std::string(65, '{'), 64));
  // Brackets inside strings do not count.
  EXPECT_TRUE(json_depth_within("{\"a\":\"" + std::string(500, '[') + "\\\"\"}", 64));
}

}  // namespace
}  // namespace hpan::daemon
