#include "config/loader.h"

#include <gtest/gtest.h>

namespace hpan::config {
namespace {

LoadResult load(const std::string& text) { return load_config_string(text, "hpand.yaml"); }

// The single error of a load that must fail with exactly one.
ConfigError only_error(const std::string& text) {
  auto r = load(text);
  EXPECT_FALSE(r.config.has_value()) << text;
  EXPECT_EQ(r.errors.size(), 1u) << text;
  return r.errors.empty() ? ConfigError{} : r.errors.front();
}

TEST(ConfigLoader, AnEmptyFileIsValidAndGivesEveryDefault) {
  for (const std::string text : {"", "# only a comment\n", "{}\n", "---\n"}) {
    auto r = load(text);
    ASSERT_TRUE(r.config.has_value()) << text << (r.errors.empty() ? "" : r.errors[0].to_string());
    const Config& c = *r.config;
    EXPECT_EQ(c.state_dir, "/var/lib/hpand");
    EXPECT_EQ(c.control.socket, "/run/hpand/control.sock");
    EXPECT_EQ(c.control.socket_mode, 0660u);
    ASSERT_EQ(c.control.roles.size(), 1u);
    EXPECT_EQ(c.control.roles[0].name, "hpan-admin");
    EXPECT_EQ(c.control.roles[0].role, Role::administrator);
    EXPECT_EQ(c.control.max_request_size, 1024u * 1024u);
    EXPECT_EQ(c.delivery.concurrency, 64);
    EXPECT_EQ(c.delivery.per_host, 8);
    EXPECT_EQ(c.delivery.retry_first, (Period{0, 10}));
    EXPECT_EQ(c.delivery.retry_max_interval, (Period{0, 3600}));
    EXPECT_EQ(c.delivery.retry_give_up_after, (Period{0, 72 * 3600}));
    EXPECT_EQ(c.delivery.smtp_starttls, "required");
    EXPECT_FALSE(c.delivery.allow_plain_http_to_loopback);
    EXPECT_EQ(c.lifecycle.representation_period, (Period{0, 14 * 86400}));
    EXPECT_EQ(c.lifecycle.review_interval, (Period{6, 0}));
    EXPECT_EQ(c.reminders.lead_times, (std::vector<Period>{{0, 14 * 86400}, {0, 3 * 86400}, {0, 0}}));
    EXPECT_EQ(c.reminders.intervals.at("exclusion"), (Period{0, 28 * 86400}));
    EXPECT_EQ(c.reminders.intervals.at("action-plan"), (Period{3, 0}));
    EXPECT_EQ(c.retention.revoked_notice_personal_data, (Period{72, 0}));
    EXPECT_EQ(c.log.level, "info");
    EXPECT_EQ(c.metrics.listen, "127.0.0.1:9465");
  }
}

TEST(ConfigLoader, ReadsTheDesignSketch) {
  auto r = load(R"(state_dir: /var/lib/hpand
control: { socket: /run/hpand/control.sock, roles: { hpan-admin: administrator, "user:ops": operator, "uid:1001": viewer, "gid:50": viewer } }
keys: { signing: /run/credentials/hpand.service/signing.key }
delivery:
  concurrency: 64
  per_host: 8
  retry: { first: 10s, max_interval: 1h, give_up_after: 72h }
  smtp: { url: smtp://mail.example.nhs.uk:587, from: hpan@example.nhs.uk, starttls: required }
  allow_plain_http_to_loopback: false
reminders: { lead_times: [14d, 3d, 0d], escalate_after: 7d, escalation_contact: duty-team }
retention: { revoked_notice_personal_data: 6y }
log: { level: info }
metrics: { listen: 127.0.0.1:9465 }
)");
  ASSERT_TRUE(r.config.has_value()) << r.errors[0].to_string();
  const auto& roles = r.config->control.roles;
  ASSERT_EQ(roles.size(), 4u);
  EXPECT_EQ(roles[1].kind, RoleRule::Kind::user);
  EXPECT_EQ(roles[1].name, "ops");
  EXPECT_EQ(roles[2].kind, RoleRule::Kind::uid);
  EXPECT_EQ(roles[2].id, 1001u);
  EXPECT_EQ(roles[3].kind, RoleRule::Kind::gid);
  EXPECT_EQ(r.config->reminders.escalation_contact, "duty-team");
  EXPECT_EQ(r.config->delivery.smtp_url, "smtp://mail.example.nhs.uk:587");
}

TEST(ConfigLoader, ErrorsNameTheFileLineColumnKeyAndWhatWasExpected) {
  const auto e = only_error("delivery:\n  retry:\n    first: ten\n");
  EXPECT_EQ(e.to_string(), "hpand.yaml:3:12: delivery.retry.first: expected a duration like 10s, 5m, 1h or 3d, got \"ten\"");
}

TEST(ConfigLoader, UnknownKeysAreErrorsWithASuggestion) {
  const auto e = only_error("delivery:\n  retyr:\n    first: 10s\n");
  EXPECT_EQ(e.key, "delivery.retyr");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("unknown key"), std::string::npos);
  EXPECT_EQ(only_error("surprise: 1\n").key, "surprise");
}

TEST(ConfigLoader, ReportsEveryErrorAtOnce) {
  auto r = load("delivery:\n  concurrency: 0\n  per_host: many\nlog:\n  level: loud\nbogus: 1\n");
  ASSERT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].key, "delivery.concurrency");
  EXPECT_NE(r.errors[0].message.find("1 to 10000"), std::string::npos);
  EXPECT_EQ(r.errors[1].key, "delivery.per_host");
  EXPECT_EQ(r.errors[2].key, "log.level");
  EXPECT_NE(r.errors[2].message.find("trace debug info warn error critical off"), std::string::npos);
  EXPECT_EQ(r.errors[3].key, "bogus");
}

TEST(ConfigLoader, RefusesEveryBadValueType) {
  struct Case {
    std::string yaml, key;
  } cases[] = {
      {"state_dir: relative/path\n", "state_dir"},
      {"control: {socket_mode: \"0999\"}\n", "control.socket_mode"},
      {"control: {roles: {hpan-admin: superuser}}\n", "control.roles"},
      {"control: {roles: {\"uid:abc\": viewer}}\n", "control.roles"},
      {"control: {roles: [a, b]}\n", "control.roles"},
      {"control: {max_request_size: 1 furlong}\n", "control.max_request_size"},
      {"delivery: {retry: {first: 6mo}}\n", "delivery.retry.first"},
      {"delivery: {timeout: -5s}\n", "delivery.timeout"},
      {"delivery: {smtp: {url: http://mail.example.nhs.uk}}\n", "delivery.smtp.url"},
      {"delivery: {smtp: {from: not-an-address}}\n", "delivery.smtp.from"},
      {"delivery: {allow_plain_http_to_loopback: maybe}\n", "delivery.allow_plain_http_to_loopback"},
      {"delivery: {concurrency: [1]}\n", "delivery.concurrency"},
      {"lifecycle: {review_interval: soon}\n", "lifecycle.review_interval"},
      {"reminders: {lead_times: 14d}\n", "reminders.lead_times"},
      {"reminders: {lead_times: [14d, often]}\n", "reminders.lead_times"},
      {"reminders: {send_at: \"25:00\"}\n", "reminders.send_at"},
      {"metrics: {listen: \"127.0.0.1\"}\n", "metrics.listen"},
      {"metrics: {listen: \"127.0.0.1:99999\"}\n", "metrics.listen"},
      {"log: verbose\n", "log"},
  };
  for (const auto& c : cases) EXPECT_EQ(only_error(c.yaml).key, c.key) << c.yaml;
}

TEST(ConfigLoader, PlainSmtpIsAllowedOnlyToLoopback) {
  EXPECT_TRUE(load("delivery: {smtp: {url: smtp://127.0.0.1:2525, starttls: none}}\n").config.has_value());
  EXPECT_TRUE(load("delivery: {smtp: {url: smtp://localhost:25, starttls: none}}\n").config.has_value());
  const auto e = only_error("delivery: {smtp: {url: smtp://mail.example.nhs.uk:25, starttls: none}}\n");
  EXPECT_EQ(e.key, "delivery.smtp.starttls");
  EXPECT_NE(e.message.find("loopback"), std::string::npos);
}

TEST(ConfigLoader, ReportsYamlSyntaxErrorsWithTheirPosition) {
  const auto e = only_error("delivery:\n  retry: [10s\n");
  EXPECT_GT(e.line, 0);
  EXPECT_NE(e.message.find("YAML syntax error"), std::string::npos);
}

TEST(ConfigLoader, RefusesAKeyGivenTwice) {
  EXPECT_NE(only_error("log: {level: info}\nlog: {level: debug}\n").message.find("twice"), std::string::npos);
}

TEST(ConfigLoader, AMissingFileIsAnErrorNamingIt) {
  auto r = load_config_file("/nonexistent/hpand.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("/nonexistent/hpand.yaml"), std::string::npos);
}

TEST(ConfigLoader, TheDefaultDumpLoadsBackToTheDefaults) {
  auto r = load(dump_default_config());
  ASSERT_TRUE(r.config.has_value()) << r.errors[0].to_string();
  const Config d = default_config();
  EXPECT_EQ(r.config->delivery.retry_give_up_after, d.delivery.retry_give_up_after);
  EXPECT_EQ(r.config->reminders.intervals, d.reminders.intervals);
  EXPECT_EQ(r.config->control.roles.size(), d.control.roles.size());
  EXPECT_EQ(r.config->metrics.listen, d.metrics.listen);
}

TEST(Periods, ParseCalendarAndClockUnits) {
  EXPECT_EQ(parse_period("1h30m", false), (Period{0, 5400}));
  EXPECT_EQ(parse_period("4w", false), (Period{0, 28 * 86400}));
  EXPECT_EQ(parse_period("1y6mo", true), (Period{18, 0}));
  EXPECT_EQ(parse_period("0", false), (Period{}));
  EXPECT_FALSE(parse_period("6mo", false));
  EXPECT_FALSE(parse_period("10", false));
  EXPECT_FALSE(parse_period("", true));
  EXPECT_FALSE(parse_period("5 s", false));
  EXPECT_EQ(format_period(Period{0, 90}), "1m30s");
  EXPECT_EQ(format_period(Period{72, 0}), "6y");
}

}  // namespace
}  // namespace hpan::config

namespace hpan::config {
namespace {

TEST(ConfigLoader, AFileWrittenForTheEarlierHpandStillLoads) {
  // hpand before schema 3 printed reminders.intervals.hpan-review in its default file.
  auto r = load_config_string("reminders:\n  intervals:\n    hpan-review: 3mo\n    exclusion: 2w\n", "old.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.config->lifecycle.review_interval, (Period{6, 0}));  // it never had an effect
  EXPECT_EQ(r.config->reminders.intervals.at("exclusion"), (Period{0, 14 * 86400}));
}

}  // namespace
}  // namespace hpan::config
