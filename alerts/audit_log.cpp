#include "alerts/audit_log.h"

#include <map>

#include "alerts/calendar.h"
#include "alerts/checkpoint.h"
#include "alerts/merkle.h"
#include "crypto/notice_envelope.h"

namespace hpan::alerts {

using nlohmann::json;

struct AuditLog::Tree {
  merkle::CompactTree tree;
};

AuditBatch::AuditBatch(AuditLog& log, std::vector<std::uint8_t> saved, std::int64_t saved_size)
    : log_(&log), saved_state_(std::move(saved)), saved_size_(saved_size) {}

AuditBatch::AuditBatch(AuditBatch&& other) noexcept
    : log_(other.log_), saved_state_(std::move(other.saved_state_)),
      saved_size_(other.saved_size_), done_(other.done_) {
  other.done_ = true;
}

AuditBatch::~AuditBatch() {
  if (!done_) log_->tree_->tree.restore(saved_state_);  // the transaction rolled back
}

void AuditBatch::commit() noexcept { done_ = true; }

Status AuditBatch::checkpoint(std::int64_t now_unix) {
  const auto size = log_->size();
  if (size == saved_size_) return {};
  Checkpoint cp{log_->origin_, static_cast<std::uint64_t>(size), log_->tree_->tree.root()};
  const std::string note = sign_checkpoint(cp, log_->key_name(), log_->signer_());
  HPAN_TRY_ASSIGN(s, log_->store_.db().prepare(
                         "INSERT OR REPLACE INTO checkpoints(size, note, created_at) VALUES(?,?,?)"));
  s->bind(1, size).bind(2, note).bind(3, now_unix);
  return s->run();
}

AuditLog::AuditLog(Store& store, std::function<const crypto::SigningKey&()> signer,
                   std::string origin)
    : store_(store), signer_(std::move(signer)), origin_(std::move(origin)),
      tree_(std::make_unique<Tree>()) {}

AuditLog::~AuditLog() = default;

Status AuditLog::load() {
  tree_ = std::make_unique<Tree>();
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT seq, leaf_hash FROM audit ORDER BY seq"));
  std::int64_t expected = 0;
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    if (s->column_int(0) != expected)
      return make_error("audit_corrupt", "audit record " + std::to_string(expected) +
                                             " is missing; run hpanctl audit verify");
    const auto blob = s->column_blob(1);
    merkle::Hash h{};
    if (blob.size() != h.size())
      return make_error("audit_corrupt", "audit record " + std::to_string(expected) + " has a bad leaf hash");
    std::copy(blob.begin(), blob.end(), h.begin());
    tree_->tree.append(h);
    ++expected;
  }
  return {};
}

AuditBatch AuditLog::begin_batch() { return AuditBatch(*this, tree_->tree.save(), size()); }

std::int64_t AuditLog::size() const noexcept { return tree_->tree.size(); }

std::string AuditLog::root_hex() const { return crypto::hex_encode(tree_->tree.root()); }

Result<std::int64_t> AuditLog::append(const AuditEntry& e, std::int64_t now_unix) {
  const std::int64_t seq = size();
  json record = {{"seq", seq},
                 {"at", format_utc(now_unix)},
                 {"actor", {{"uid", e.actor.uid}, {"user", e.actor.user}, {"system", e.actor.system}}},
                 {"method", e.method},
                 {"object", e.object.is_null() ? json::object() : e.object},
                 {"outcome", e.outcome},
                 {"detail", e.detail.is_null() ? json::object() : e.detail}};
  HPAN_TRY_ASSIGN(text, crypto::canonical_json(record));
  const merkle::Hash leaf = merkle::leaf_hash(text);
  HPAN_TRY_ASSIGN(s, store_.db().prepare("INSERT INTO audit(seq, record, leaf_hash) VALUES(?,?,?)"));
  s->bind(1, seq).bind(2, text).bind_blob(3, leaf);
  HPAN_TRY(s->run());
  tree_->tree.append(leaf);
  return seq;
}

Result<AuditVerifyReport> AuditLog::verify(const crypto::Keyset& keyset) {
  AuditVerifyReport report;
  // Checkpoints by size.
  std::map<std::int64_t, std::string> checkpoints;
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT size, note FROM checkpoints ORDER BY size"));
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      checkpoints.emplace(s->column_int(0), s->column_text(1));
    }
  }
  report.checkpoints = static_cast<std::int64_t>(checkpoints.size());
  auto fail = [&report](std::int64_t record, std::string problem) {
    if (report.problem.empty()) {
      report.first_bad_record = record;
      report.problem = std::move(problem);
    }
  };
  merkle::CompactTree tree;
  auto next_cp = checkpoints.begin();
  std::int64_t previous_cp_size = 0;
  // Checks every checkpoint whose size the tree has reached.
  auto check_checkpoints = [&]() {
    while (next_cp != checkpoints.end() && next_cp->first == tree.size()) {
      auto cp = verify_checkpoint(next_cp->second, key_name(), keyset);
      if (!cp) {
        fail(previous_cp_size, "checkpoint at size " + std::to_string(next_cp->first) + ": " +
                                   cp.error().message);
      } else if (cp->origin != origin_ || cp->root != tree.root()) {
        fail(previous_cp_size, "records " + std::to_string(previous_cp_size) + " to " +
                                   std::to_string(next_cp->first - 1) +
                                   " do not match the signed checkpoint at size " +
                                   std::to_string(next_cp->first));
      }
      previous_cp_size = next_cp->first;
      ++next_cp;
    }
  };
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT seq, record, leaf_hash FROM audit ORDER BY seq"));
  std::int64_t expected = 0;
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    const std::int64_t seq = s->column_int(0);
    const std::string record = s->column_text(1);
    const auto stored_leaf = s->column_blob(2);
    if (seq != expected) fail(expected, "record " + std::to_string(expected) + " is missing");
    const merkle::Hash leaf = merkle::leaf_hash(record);
    if (!std::equal(leaf.begin(), leaf.end(), stored_leaf.begin(), stored_leaf.end()))
      fail(seq, "record " + std::to_string(seq) + " does not match its stored leaf hash");
    try {
      const json j = json::parse(record);
      if (j.value("seq", std::int64_t{-1}) != seq)
        fail(seq, "record " + std::to_string(seq) + " carries the wrong sequence number");
    } catch (const json::exception&) {
      fail(seq, "record " + std::to_string(seq) + " is not JSON");
    }
    tree.append(leaf);
    ++expected;
    check_checkpoints();
  }
  report.records = tree.size();
  report.root_hex = crypto::hex_encode(tree.root());
  if (next_cp != checkpoints.end())
    fail(tree.size(), "a checkpoint covers " + std::to_string(next_cp->first) + " records but only " +
                          std::to_string(tree.size()) + " are stored: records were removed");
  if (checkpoints.empty() && tree.size() > 0) fail(0, "records exist but no checkpoint was signed");
  report.ok = report.problem.empty();
  return report;
}

Result<json> AuditLog::proof(std::int64_t index) {
  HPAN_TRY_ASSIGN(cs, store_.db().prepare("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  HPAN_TRY_ASSIGN(has_cp, cs->step());
  if (!has_cp) return make_error("not_found", "no checkpoint has been signed yet", "index");
  const std::int64_t size = cs->column_int(0);
  const std::string note = cs->column_text(1);
  cs->reset();
  if (index < 0 || index >= size)
    return make_error("not_found",
                      "record " + std::to_string(index) + " is not in the latest checkpoint (size " +
                          std::to_string(size) + ")",
                      "index");
  std::vector<merkle::Hash> leaves;
  leaves.reserve(static_cast<std::size_t>(size));
  std::string record;
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT seq, record, leaf_hash FROM audit WHERE seq < ? ORDER BY seq"));
  s->bind(1, size);
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    const auto blob = s->column_blob(2);
    merkle::Hash h{};
    std::copy_n(blob.begin(), std::min(blob.size(), h.size()), h.begin());
    leaves.push_back(h);
    if (s->column_int(0) == index) record = s->column_text(1);
  }
  const auto path = merkle::inclusion_proof(static_cast<std::size_t>(index), leaves);
  json proof = json::array();
  for (const auto& h : path) proof.push_back(crypto::hex_encode(h));
  return json{{"index", index},
              {"size", size},
              {"record", record},
              {"leaf_hash", crypto::hex_encode(leaves[static_cast<std::size_t>(index)])},
              {"proof", proof},
              {"root", crypto::hex_encode(merkle::root(leaves))},
              {"checkpoint", note}};
}

Result<json> AuditLog::records(std::int64_t from, std::int64_t limit) {
  json records = json::array();
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT record FROM audit WHERE seq >= ? ORDER BY seq LIMIT ?"));
    s->bind(1, from).bind(2, limit);
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      records.push_back(s->column_text(0));
    }
  }
  json checkpoints = json::array();
  HPAN_TRY_ASSIGN(c, store_.db().prepare("SELECT size, note FROM checkpoints ORDER BY size"));
  while (true) {
    HPAN_TRY_ASSIGN(has, c->step());
    if (!has) break;
    checkpoints.push_back({{"size", c->column_int(0)}, {"note", c->column_text(1)}});
  }
  return json{{"size", size()}, {"records", records}, {"checkpoints", checkpoints}};
}

}  // namespace hpan::alerts
