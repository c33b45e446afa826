#pragma once
// A real SQLite store in a temporary folder, a real audit log, a manual clock.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "alerts/audit_log.h"
#include "alerts/clock.h"
#include "alerts/lifecycle.h"
#include "alerts/store.h"
#include "crypto/encoding.h"
#include "crypto/keys.h"

namespace hpan::alerts::testing {

inline constexpr std::int64_t kStart = 1795521600;  // 2026-11-24T12:00:00Z
inline constexpr std::int64_t kDay = 86400;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::ensure_initialized();
    char tmpl[] = "/tmp/hpan-lc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    reopen();
  }
  void TearDown() override {
    lifecycle_.reset();
    audit_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens (again) the store in dir_, as a restarted daemon would.
  void reopen() {
    lifecycle_.reset();
    audit_.reset();
    store_.reset();
    auto s = Store::open(dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::make_unique<Store>(std::move(*s));
    audit_ = std::make_unique<AuditLog>(*store_, [this]() -> const crypto::SigningKey& { return key_; },
                                        "hpand.test/audit");
    auto st = audit_->load();
    ASSERT_TRUE(st.ok()) << st.error().message;
    lifecycle_ = std::make_unique<Lifecycle>(*store_, *audit_, clock_, LifecycleSettings{});
  }

  crypto::Keyset keyset() const {
    crypto::Keyset ks;
    ks.add(key_.public_key(), true);
    return ks;
  }

  // Registers a body with a fresh recipient key.
  void add_body(const std::string& id, const std::string& receives, bool webhook, bool email,
                const std::string& kind = "trust", const std::string& regulator = "") {
    auto pair = crypto::RecipientKeyPair::generate();
    nlohmann::json p = {{"id", id},
                        {"name", "Body " + id},
                        {"kind", kind},
                        {"receives", receives},
                        {"public_key", crypto::base64_encode(pair.public_key().bytes)}};
    if (!regulator.empty()) p["regulator"] = regulator;
    if (webhook) p["webhook_url"] = "https://" + id + ".example.nhs.uk/hpan";
    if (email) p["emails"] = {"hpan@" + id + ".example.nhs.uk"};
    auto r = lifecycle_->body_add(operator_, p);
    ASSERT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
  }

  static nlohmann::json content() {
    return {
        {"practitioner",
         {{"full_name", "Dr Test Example"},
          {"profession", "doctor"},
          {"regulator", "GMC"},
          {"registration_number", "0000001"},
          {"date_of_birth", "1970-01-31"},
          {"addresses", {"1 Test Street, Testtown"}}}},
        {"concern", {{"categories", {"clinical", "conduct"}}, {"description", "Fictional concern."}}},
        {"requesting_body", {{"id", "RQ1"}}},
        {"requester", {{"name", "A Director"}, {"role", "executive_board_member"}}},
        {"contact", {{"name", "Case Contact"}, {"email", "contact@rq1.example.nhs.uk"}}},
        {"criteria", {{"significant_risk", true}, {"may_work_elsewhere", true}, {"pressing_need", true}}},
        {"public_interest", {{"outweighs_adverse_effect", true}, {"reason", "Fictional reason."}}},
    };
  }

  // Creates a draft as `alice`; returns its id.
  std::string create_draft(nlohmann::json c = content()) {
    auto r = lifecycle_->create(alice_, {{"content", c}});
    EXPECT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
    return r.ok() ? (*r)["id"].get<std::string>() : std::string();
  }

  // Draft → approved (bob) → issued urgently (alice).
  std::string issue_urgent(nlohmann::json c = content()) {
    const std::string id = create_draft(std::move(c));
    EXPECT_TRUE(lifecycle_->approve(bob_, {{"id", id}}).ok());
    auto r = lifecycle_->issue(alice_, {{"id", id}, {"urgent", true}, {"reason", "imminent risk"}});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return id;
  }

  // Count of rows matching an SQL query with one text parameter.
  std::int64_t count(const std::string& sql, const std::string& arg = "") {
    auto s = store_->db().prepare(sql);
    EXPECT_TRUE(s.ok());
    if (sql.find('?') != std::string::npos) (*s)->bind(1, arg);
    auto row = (*s)->step();
    EXPECT_TRUE(row.ok() && *row);
    const auto n = (*s)->column_int(0);
    (*s)->reset();
    return n;
  }

  std::filesystem::path dir_;
  ManualClock clock_{kStart};
  crypto::SigningKey key_ = crypto::SigningKey::generate();
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Lifecycle> lifecycle_;
  Actor alice_{1001, "alice", false};
  Actor bob_{1002, "bob", false};
  Actor operator_{1003, "olivia", false};
};

}  // namespace hpan::alerts::testing
