#pragma once
// The embedded store: one SQLite database (WAL, foreign keys on) in the state folder,
// with versioned schema migrations applied at open. A database written by a newer
// hpand is refused rather than guessed at. Schema: docs/store.md.

#include <filesystem>
#include <string>

#include "alerts/sqlite.h"
#include "common/result.h"

namespace hpan::alerts {

inline constexpr int kSchemaVersion = 4;

class Store {
 public:
  // Opens (creating) `<state_dir>/hpand.sqlite` and migrates it to kSchemaVersion.
  // Error codes: "storage_error", "schema_too_new" (names both versions).
  static Result<Store> open(const std::filesystem::path& state_dir);
  // For tests: opens a database file directly (":memory:" allowed).
  static Result<Store> open_file(const std::string& path);

  sql::Database& db() noexcept { return db_; }
  int schema_version() const noexcept { return version_; }

  // PRAGMA integrity_check; "ok" or the problems found.
  Result<std::string> integrity_check();

  // Small key/value settings kept with the data (instance id, current key id).
  Result<std::string> get_meta(std::string_view key);
  Status set_meta(std::string_view key, std::string_view value);

 private:
  Store(sql::Database db, int version) : db_(std::move(db)), version_(version) {}
  static Result<Store> migrate(sql::Database db);
  sql::Database db_;
  int version_;
};

}  // namespace hpan::alerts
