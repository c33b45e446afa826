#pragma once
// The tamper-evident audit log (DESIGN §5). Each record is canonical JSON without
// personal data, stored as a leaf of an RFC 6962 Merkle tree; after each batch (one
// store transaction) hpand signs a C2SP checkpoint of the tree.
//
// Use inside a transaction:
//   auto batch = audit.begin_batch();     // remembers the tree state
//   audit.append(entry) ...;              // rows written in the open transaction
//   HPAN_TRY(batch.checkpoint(now));      // signed checkpoint row, same transaction
//   HPAN_TRY(tx.commit()); batch.commit();// keep the new tree state; else it rolls back

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerts/actor.h"
#include "alerts/store.h"
#include "common/result.h"
#include "crypto/keys.h"

namespace hpan::alerts {

struct AuditEntry {
  Actor actor;
  std::string method;        // "notice.issue", "delivery.attempt", "control.refused", ...
  nlohmann::json object;     // ids only: {"notice_id": ..., "version": ...}
  std::string outcome;       // "ok", "refused", "failed", ...
  nlohmann::json detail;     // no personal data: hashes, codes, counts
};

struct AuditVerifyReport {
  bool ok = false;
  std::int64_t records = 0;
  std::int64_t checkpoints = 0;
  std::optional<std::int64_t> first_bad_record;  // leaf index
  std::string problem;                           // one line, empty when ok
  std::string root_hex;                          // root of the whole log
};

class AuditLog;

// Undo scope for one store transaction's records.
class AuditBatch {
 public:
  AuditBatch(AuditBatch&& other) noexcept;
  AuditBatch& operator=(AuditBatch&&) = delete;
  ~AuditBatch();
  // Signs and stores a checkpoint of the tree as it is now (in the open transaction).
  Status checkpoint(std::int64_t now_unix);
  // The transaction committed: keep the in-memory tree.
  void commit() noexcept;

 private:
  friend class AuditLog;
  AuditBatch(AuditLog& log, std::vector<std::uint8_t> saved, std::int64_t saved_size);
  AuditLog* log_;
  std::vector<std::uint8_t> saved_state_;
  std::int64_t saved_size_;
  bool done_ = false;
};

class AuditLog {
 public:
  // `signer` returns the current signing key (which may rotate); `origin` names the log.
  AuditLog(Store& store, std::function<const crypto::SigningKey&()> signer, std::string origin);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Reads the stored leaf hashes and rebuilds the tree. Call once at start.
  Status load();

  AuditBatch begin_batch();
  // Appends one record in the open transaction; returns its index.
  Result<std::int64_t> append(const AuditEntry& entry, std::int64_t now_unix);

  std::int64_t size() const noexcept;
  std::string root_hex() const;
  const std::string& origin() const noexcept { return origin_; }
  // C2SP key name used in the checkpoints' signatures.
  const std::string& key_name() const noexcept { return origin_; }

  // Recomputes every leaf and every checkpoint root; checks checkpoint signatures
  // against `keyset`. Names the first record that does not match.
  Result<AuditVerifyReport> verify(const crypto::Keyset& keyset);
  // Inclusion proof of record `index` in the tree of the latest checkpoint:
  // {"index","size","leaf_hash","record","proof":[hex...],"root","checkpoint"}.
  Result<nlohmann::json> proof(std::int64_t index);
  // Records [from, from+limit) and all checkpoints, for an outside auditor.
  Result<nlohmann::json> records(std::int64_t from, std::int64_t limit);

 private:
  friend class AuditBatch;
  struct Tree;
  Store& store_;
  std::function<const crypto::SigningKey&()> signer_;
  std::string origin_;
  std::unique_ptr<Tree> tree_;
};

}  // namespace hpan::alerts
