#include "alerts/lifecycle.h"
#include "alerts/notice_row.h"

#include "tests/unit/alerts/lifecycle_fixture.h"

namespace hpan::alerts::testing {
namespace {

using nlohmann::json;

class Lifecycle_ : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    add_body("RQ1", "selected", true, true);   // the requesting body: webhook + email
    add_body("NAT", "all", true, false);       // standing distribution list
    add_body("OTH", "selected", true, false);  // not named: gets nothing
    add_body("GMC", "selected", false, true, "regulator", "GMC");
  }
};

TEST_F(Lifecycle_, CreateRefusesAMissingPractitionerNameNamingTheField) {
  json c = content();
  c["practitioner"].erase("full_name");
  auto r = lifecycle_->create(alice_, {{"content", c}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "practitioner.full_name");
  EXPECT_EQ(count("SELECT count(*) FROM notices"), 0);
}

TEST_F(Lifecycle_, CreateRefusesBadFieldsNamingEachOne) {
  struct Case {
    std::function<void(json&)> change;
    std::string field;
  } cases[] = {
      {[](json& c) { c["practitioner"]["profession"] = "wizard"; }, "practitioner.profession"},
      {[](json& c) { c["practitioner"]["date_of_birth"] = "1970-02-30"; }, "practitioner.date_of_birth"},
      {[](json& c) { c["concern"]["description"] = std::string(4001, 'x'); }, "concern.description"},
      {[](json& c) { c["concern"]["categories"] = json::array(); }, "concern.categories"},
      {[](json& c) { c["concern"]["categories"] = {"clinical", "astrology"}; }, "concern.categories[1]"},
      {[](json& c) { c["requesting_body"]["id"] = "NOPE"; }, "requesting_body.id"},
      {[](json& c) { c["recipients"] = {"NAT", "GONE"}; }, "recipients[1]"},
      {[](json& c) { c["requester"]["role"] = "janitor"; }, "requester.role"},
      {[](json& c) { c["practitioner"]["full_name"] = "Dr X\r\nBcc: evil@example.com"; }, "practitioner.full_name"},
      {[](json& c) { c["surprise"] = 1; }, "surprise"},
      {[](json& c) { c["practitioner"]["registration_number"] = ""; }, "practitioner.registration_number"},
  };
  for (const auto& tc : cases) {
    json c = content();
    tc.change(c);
    auto r = lifecycle_->create(alice_, {{"content", c}});
    ASSERT_FALSE(r.ok()) << tc.field;
    EXPECT_EQ(r.error().field, tc.field);
  }
  EXPECT_EQ(count("SELECT count(*) FROM notices"), 0);
}

TEST_F(Lifecycle_, NoticeIdsFollowTheYearAndAreNeverReused) {
  const std::string a = create_draft();
  ASSERT_TRUE(lifecycle_->withdraw(alice_, {{"id", a}, {"reason", "entered in error"}}).ok());
  const std::string b = create_draft();
  EXPECT_EQ(a, "HPAN-2026-000001");
  EXPECT_EQ(b, "HPAN-2026-000002");
}

TEST_F(Lifecycle_, AnUnknownIdIsAuditedAsUnknownNotAsTyped) {
  // A name typed where a notice id belongs must not land in the audit log, which
  // viewers can read.
  auto r = lifecycle_->approve(bob_, {{"id", "Smithson"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_found");
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE json_extract(record,'$.outcome') = 'refused'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%Smithson%'"), 0);
}

TEST_F(Lifecycle_, ApproveNeedsASecondAdministrator) {
  const std::string id = create_draft();
  auto r = lifecycle_->approve(alice_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "maker_checker");
  EXPECT_EQ((*lifecycle_->show({{"id", id}}))["state"], "draft");
  // The refusal is audited.
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE json_extract(record,'$.outcome') = 'refused'"), 1);
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
  EXPECT_EQ((*lifecycle_->show({{"id", id}}))["state"], "approved");
}

TEST_F(Lifecycle_, ApproveNeedsTheCriteriaAndThePublicInterestDecision) {
  json c = content();
  c["criteria"]["pressing_need"] = false;
  const std::string id = create_draft(c);
  auto r = lifecycle_->approve(bob_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "criteria.pressing_need");
  ASSERT_TRUE(lifecycle_->update(alice_, {{"id", id},
                                          {"content", {{"criteria", {{"pressing_need", true}}},
                                                       {"public_interest", {{"reason", ""}}}}}})
                  .ok());
  r = lifecycle_->approve(bob_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "public_interest.reason");
}

TEST_F(Lifecycle_, IssueNeedsThePractitionerInformedOrAnUrgentReason) {
  const std::string id = create_draft();
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
  auto r = lifecycle_->issue(alice_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_informed");
  r = lifecycle_->issue(alice_, {{"id", id}, {"urgent", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "reason");
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(Lifecycle_, IssueWaitsForTheRepresentationPeriod) {
  const std::string id = create_draft();
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
  ASSERT_TRUE(lifecycle_->inform(alice_, {{"id", id}}).ok());
  clock_.advance(std::chrono::seconds(13 * kDay));
  auto r = lifecycle_->issue(alice_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "representation_period");
  clock_.advance(std::chrono::seconds(kDay));
  r = lifecycle_->issue(alice_, {{"id", id}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["notice"]["state"], "active");
  // Six months after issue (London date).
  EXPECT_EQ((*r)["notice"]["next_review_due"], "2027-06-08");
}

TEST_F(Lifecycle_, IssueQueuesOneDeliveryPerRecipientBodyAndChannel) {
  const std::string id = issue_urgent();
  // RQ1 webhook+email, NAT webhook, GMC email; OTH nothing.
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE notice_id = ?", id), 4);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE body_id = 'OTH'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE delivery_id = ?", id + "-v1-RQ1-email"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'pending' AND message_type = 'issued'"), 4);
  // The version's payload holds the schema and no body id (added per recipient at send time).
  auto payload = load_version_payload(store_->db(), id, 1);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ((*payload)["schema"], "hpan.notice/1");
  EXPECT_FALSE(payload->contains("body_id"));
}

TEST_F(Lifecycle_, UpdateOfAnActiveNoticeNeedsASecondAdministratorAndMakesVersionTwo) {
  const std::string id = issue_urgent();
  ASSERT_TRUE(lifecycle_->update(alice_, {{"id", id},
                                          {"content", {{"recipients", {"OTH"}}}}})
                  .ok());
  EXPECT_EQ(count("SELECT count(*) FROM notice_versions WHERE notice_id = ?", id), 1);
  auto r = lifecycle_->approve(alice_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "maker_checker");
  r = lifecycle_->approve(bob_, {{"id", id}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["version"]["version"], 2);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE version = 2 AND message_type = 'updated'"), 5);
  auto v2 = load_version_payload(store_->db(), id, 2);
  EXPECT_EQ((*v2)["supersedes"], json({1}));
}

TEST_F(Lifecycle_, RevocationNeedsTwoAdministratorsAndReachesEveryEarlierRecipient) {
  json c = content();
  c["recipients"] = {"OTH"};
  const std::string id = issue_urgent(c);
  // v2 no longer names OTH, but OTH received v1.
  ASSERT_TRUE(lifecycle_->update(alice_, {{"id", id}, {"content", {{"recipients", json::array()}}}}).ok());
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE version = 2 AND body_id = 'OTH'"), 0);
  auto r = lifecycle_->revoke(bob_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "reason");
  ASSERT_TRUE(lifecycle_->revoke(bob_, {{"id", id}, {"reason", "regulator suspended registration"}}).ok());
  EXPECT_EQ((*lifecycle_->show({{"id", id}}))["state"], "active");
  r = lifecycle_->approve(bob_, {{"id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "maker_checker");
  r = lifecycle_->approve(alice_, {{"id", id}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["notice"]["state"], "revoked");
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE version = 3 AND message_type = 'revoked'"), 5);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE version = 3 AND body_id = 'OTH'"), 1);
  // Nothing more can happen to it but purge.
  EXPECT_EQ(lifecycle_->review(alice_, {{"id", id}, {"outcome", "continue"}}).error().code, "invalid_state");
}

TEST_F(Lifecycle_, ReviewContinueMovesTheNextReviewDate) {
  const std::string id = issue_urgent();
  clock_.advance(std::chrono::seconds(30 * kDay));
  auto r = lifecycle_->review(alice_, {{"id", id}, {"outcome", "continue"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["next_review_due"], "2027-06-24");
  r = lifecycle_->review(alice_, {{"id", id}, {"outcome", "continue"}, {"next_due", "2020-01-01"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "next_due");
  r = lifecycle_->review(alice_, {{"id", id}, {"outcome", "maybe"}});
  EXPECT_EQ(r.error().field, "outcome");
  EXPECT_EQ(count("SELECT count(*) FROM reviews WHERE notice_id = ?", id), 1);
}

TEST_F(Lifecycle_, WithdrawIsOnlyForNoticesNeverIssued) {
  const std::string id = issue_urgent();
  auto r = lifecycle_->withdraw(alice_, {{"id", id}, {"reason", "x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_state");
  const std::string draft = create_draft();
  ASSERT_TRUE(lifecycle_->withdraw(alice_, {{"id", draft}, {"reason", "duplicate"}}).ok());
  EXPECT_EQ(lifecycle_->approve(bob_, {{"id", draft}}).error().code, "invalid_state");
}

TEST_F(Lifecycle_, PurgeErasesPersonalFieldsAfterRetentionAndKeepsHashes) {
  const std::string id = issue_urgent();
  ASSERT_TRUE(lifecycle_->revoke(alice_, {{"id", id}, {"reason", "no longer needed"}}).ok());
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
  auto none = lifecycle_->purge_due(Actor::daemon());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["purged"].empty());
  clock_.advance(std::chrono::seconds(6 * 366 * kDay));
  auto r = lifecycle_->purge_due(Actor::daemon());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["purged"], json({id}));
  auto shown = *lifecycle_->show({{"id", id}});
  EXPECT_EQ(shown["state"], "purged");
  EXPECT_EQ(shown["content"]["practitioner"]["full_name"], "");
  EXPECT_EQ(shown["content"]["concern"]["description"], "");
  EXPECT_EQ(count("SELECT count(*) FROM notices WHERE content LIKE '%Test Example%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM notice_versions WHERE content LIKE '%Test Example%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM notice_versions WHERE length(content_hash) = 64"), 2);
  // A subject access request no longer finds the person.
  auto sar = lifecycle_->subject_access({{"regulator", "GMC"}, {"number", "0000001"}});
  EXPECT_TRUE((*sar)["notices"].empty());
}

TEST_F(Lifecycle_, ABodyAddedLaterIsQueuedEveryActiveNotice) {
  const std::string active = issue_urgent();
  const std::string draft = create_draft();
  add_body("NEW", "all", true, false);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE body_id = 'NEW'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE body_id = 'NEW' AND notice_id = ?", active), 1);
  add_body("SEL", "selected", true, false);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE body_id = 'SEL'"), 0);
  (void)draft;
}

TEST_F(Lifecycle_, RemovingABodyCancelsItsPendingDeliveries) {
  issue_urgent();
  auto r = lifecycle_->body_set_state(operator_, {{"id", "NAT"}}, "body.remove");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["deliveries_cancelled"], 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE body_id = 'NAT' AND state = 'cancelled'"), 1);
  EXPECT_EQ(lifecycle_->body_set_state(operator_, {{"id", "NAT"}}, "body.resume").error().code,
            "invalid_state");
}

TEST_F(Lifecycle_, BodyAddRefusesPlainHttpAndBadKeys) {
  auto pair = crypto::RecipientKeyPair::generate();
  json p = {{"id", "B1"},
            {"name", "B"},
            {"kind", "trust"},
            {"webhook_url", "http://example.nhs.uk/x"},
            {"public_key", crypto::base64_encode(pair.public_key().bytes)}};
  auto r = lifecycle_->body_add(operator_, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "webhook_url");
  p["webhook_url"] = "https://example.nhs.uk/x";
  p["public_key"] = "not base64!";
  r = lifecycle_->body_add(operator_, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "public_key");
  p["public_key"] = crypto::base64_encode(pair.public_key().bytes);
  p["emails"] = {"ok@example.nhs.uk", "bad\r\nBcc: x@y"};
  r = lifecycle_->body_add(operator_, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "emails[1]");
  EXPECT_EQ(count("SELECT count(*) FROM bodies WHERE id = 'B1'"), 0);
}

TEST_F(Lifecycle_, CheckAnswersThePreEmploymentQuestion) {
  const std::string id = issue_urgent();
  auto r = lifecycle_->check({{"regulator", "GMC"}, {"number", "0000001"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)["subject_of_active_notice"].get<bool>());
  r = lifecycle_->check({{"name", "  dr TEST   example "}, {"date_of_birth", "1970-01-31"}});
  EXPECT_TRUE((*r)["subject_of_active_notice"].get<bool>());
  r = lifecycle_->check({{"regulator", "GMC"}, {"number", "7654321"}});
  EXPECT_FALSE((*r)["subject_of_active_notice"].get<bool>());
  r = lifecycle_->check({{"name", "Dr Test Example"}});
  EXPECT_EQ(r.error().field, "date_of_birth");
  // A draft is not an active notice, but a subject access request finds it.
  json other = content();
  other["practitioner"]["registration_number"] = "7654321";
  create_draft(other);
  r = lifecycle_->check({{"regulator", "GMC"}, {"number", "7654321"}});
  EXPECT_FALSE((*r)["subject_of_active_notice"].get<bool>());
  auto sar = lifecycle_->subject_access({{"regulator", "GMC"}, {"number", "7654321"}});
  EXPECT_EQ((*sar)["notices"].size(), 1u);
  (void)id;
}

TEST_F(Lifecycle_, EveryChangeIsAuditedAndTheLogVerifies) {
  const std::string id = issue_urgent();
  ASSERT_TRUE(lifecycle_->review(alice_, {{"id", id}, {"outcome", "continue"}}).ok());
  auto h = lifecycle_->history({{"id", id}});
  ASSERT_TRUE(h.ok());
  std::vector<std::string> methods;
  for (const auto& a : (*h)["audit"]) methods.push_back(a["method"]);
  EXPECT_EQ(methods, (std::vector<std::string>{"notice.create", "notice.approve", "notice.issue",
                                               "notice.review"}));
  // No personal data in the audit log.
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%Example%' OR record LIKE '%0000001%'"), 0);
  auto report = audit_->verify(keyset());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  // It survives a restart.
  reopen();
  report = audit_->verify(keyset());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(audit_->size(), report->records);
}

}  // namespace
}  // namespace hpan::alerts::testing
