#include "alerts/outbox.h"

#include "alerts/bodies.h"

#include "tests/unit/alerts/lifecycle_fixture.h"

namespace hpan::alerts::testing {
namespace {

using nlohmann::json;

class Outbox_ : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    add_body("RQ1", "selected", true, false);
    add_body("NAT", "all", false, true);
    outbox_ = std::make_unique<Outbox>(*store_, *audit_);
  }
  // Outbox::settle is the engine's one call; the tests use its two halves on their own.
  Result<std::vector<OutboundDelivery>> claim(int limit, const Outbox::Accept& accept = {}) {
    return outbox_->settle({}, kStart, limit, accept);
  }
  Status record(const std::vector<AttemptResult>& results) {
    auto r = outbox_->settle(results, kStart, 0, {});
    if (!r) return std::move(r).error();
    return {};
  }
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(Outbox_, ClaimsDueDeliveriesOnceAndRequeuesThoseLeftInFlight) {
  issue_urgent();
  auto first = claim(10);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].attempts, 1);
  EXPECT_TRUE(claim(10)->empty());  // in flight now
  EXPECT_EQ(*outbox_->requeue_in_flight(kStart), 2);
  EXPECT_EQ(claim(10)->front().attempts, 2);
}

TEST_F(Outbox_, ClaimLeavesWhatAcceptTurnsDownPendingAndNextDueSkipsIt) {
  add_body("WB2", "all", true, false);
  issue_urgent();
  // Due order: NAT email, RQ1 webhook, WB2 webhook (body id order). Webhooks to RQ1's
  // host are turned down, as if that host had all its transfers.
  const auto not_rq1 = [](const std::string& channel, const std::string& address) {
    return channel != "webhook" || url_host(address) != "rq1.example.nhs.uk";
  };
  auto claimed = claim(10, not_rq1);
  ASSERT_TRUE(claimed.ok());
  std::vector<std::string> bodies;
  for (const auto& d : *claimed) bodies.push_back(d.body_id + "/" + d.channel);
  EXPECT_EQ(bodies, (std::vector<std::string>{"NAT/email", "WB2/webhook"}));
  // RQ1's is still pending and due; next_due sees it, unless it is turned down too.
  EXPECT_EQ(**outbox_->next_due(), kStart);
  EXPECT_FALSE(outbox_->next_due(not_rq1)->has_value());
  EXPECT_EQ(claim(10)->front().body_id, "RQ1");
}

TEST_F(Outbox_, ClaimStopsAtTheLimitInDueOrder) {
  add_body("WB2", "all", true, false);
  issue_urgent();
  auto first = *claim(2);
  ASSERT_EQ(first.size(), 2u);
  auto rest = *claim(2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].body_id, "WB2");
}

TEST(UrlHost, IsTheLowerCasedHostWithoutPortOrUserInformation) {
  EXPECT_EQ(url_host("https://Hooks.Example.NHS.uk:8443/x"), "hooks.example.nhs.uk");
  EXPECT_EQ(url_host("http://127.0.0.2:80"), "127.0.0.2");
  EXPECT_EQ(url_host("https://[::1]:9/p"), "[::1]");
  EXPECT_EQ(url_host("https://user@host/p"), "");
  EXPECT_EQ(url_host("https:///p"), "");
  EXPECT_EQ(url_host("no scheme"), "");
}

TEST_F(Outbox_, ASuspendedBodysDeliveriesWaitUntilItIsResumed) {
  ASSERT_TRUE(lifecycle_->body_set_state(operator_, {{"id", "NAT"}}, "body.suspend").ok());
  issue_urgent();
  auto claimed = *claim(10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].body_id, "RQ1");
  ASSERT_TRUE(lifecycle_->body_set_state(operator_, {{"id", "NAT"}}, "body.resume").ok());
  EXPECT_EQ(claim(10)->front().body_id, "NAT");
}

TEST_F(Outbox_, ADeadDeliveryIsEscalatedOnceWithoutPersonalData) {
  outbox_->set_escalation(Contact{{"duty@issuer.example.nhs.uk"}, ""});
  const std::string id = issue_urgent();
  auto claimed = *claim(10);
  const std::string dead_id = id + "-v1-RQ1-webhook";
  ASSERT_TRUE(record({{dead_id, 1, "dead", "HTTP 410 (permanent)", std::nullopt}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE delivery_id = ?", "escalation-" + dead_id), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE message_type = 'escalation' AND message LIKE '%Example%'"), 0);
  auto escalations = *claim(10);
  auto esc = std::find_if(escalations.begin(), escalations.end(), [](const auto& d) { return !d.is_notice(); });
  ASSERT_NE(esc, escalations.end());
  EXPECT_EQ(esc->address, "duty@issuer.example.nhs.uk");
  EXPECT_EQ(json::parse(esc->message)["delivery_id"], dead_id);
  // The escalation itself dying is not escalated again.
  ASSERT_TRUE(record({{esc->delivery_id, 1, "dead", "SMTP 550", std::nullopt}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE message_type = 'escalation'"), 1);
  // Every attempt is audited and the log still verifies.
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE json_extract(record,'$.method') = 'delivery.attempt'"), 2);
  EXPECT_TRUE(audit_->verify(keyset())->ok);
}

TEST_F(Outbox_, RetryBringsDeadDeliveriesBack) {
  const std::string id = issue_urgent();
  (void)claim(10);
  ASSERT_TRUE(record({{id + "-v1-NAT-email", 1, "dead", "SMTP 550", std::nullopt}}).ok());
  auto r = outbox_->retry(alice_, {{"all_dead", true}}, kStart + 60);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["requeued"], 1);
  EXPECT_EQ(outbox_->retry(alice_, {{"id", "nope"}}, kStart).error().code, "not_found");
  EXPECT_EQ(outbox_->retry(alice_, json::object(), kStart).error().field, "id");
  auto shown = outbox_->show({{"id", id + "-v1-NAT-email"}});
  EXPECT_EQ((*shown)["state"], "pending");
  EXPECT_EQ((*shown)["attempt_log"].size(), 1u);
}

TEST(Store, RefusesADatabaseFromANewerHpand) {
  char tmpl[] = "/tmp/hpan-st-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/hpand.sqlite";
  {
    auto s = Store::open_file(path);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->schema_version(), kSchemaVersion);
    ASSERT_TRUE(s->db().exec("PRAGMA user_version = 99").ok());
  }
  auto again = Store::open_file(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "schema_too_new");
  EXPECT_NE(again.error().message.find("99"), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace hpan::alerts::testing
