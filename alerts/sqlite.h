#pragma once
// A thin RAII layer over SQLite 3: a connection, prepared statements, transactions.
// Errors come back as hpan::Error with code "storage_error" (or "storage_full" when
// the disk or quota is full, "storage_busy" when locked) and the SQL context.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hpan::alerts::sql {

class Statement;

// One SQLite connection. Not thread-safe; owned by one thread.
class Database {
 public:
  // Opens (creating if missing, mode 0600) the database at `path` (":memory:" allowed),
  // with WAL, foreign keys, synchronous=FULL and a busy timeout.
  static Result<Database> open(const std::string& path);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements without results.
  Status exec(std::string_view sql);
  // Prepares one statement (cached by SQL text for the connection's lifetime).
  Result<Statement*> prepare(std::string_view sql);
  // Resets every cached statement. A statement left half-read keeps its read
  // transaction, and with it an old snapshot, open until it is reset: a connection that
  // only reads calls this after each request, so that the next one sees every commit.
  void reset_statements();
  std::int64_t last_insert_rowid() const;
  int changes() const;
  // The error for the last failing call, with `context` in the message.
  Error last_error(std::string_view context) const;
  sqlite3* handle() const noexcept { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  void close() noexcept;
  struct Cache;
  sqlite3* db_ = nullptr;
  Cache* cache_ = nullptr;
};

// A prepared statement owned by Database's cache; reset before each use by `Database::prepare`.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds by 1-based index. Chainable.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind_blob(int index, std::span<const std::uint8_t> blob);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<std::string>& text);

  // Steps once: true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion, for statements without rows.
  Status run();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  std::optional<std::string> column_optional_text(int index) const;
  std::vector<std::uint8_t> column_blob(int index) const;
  bool column_is_null(int index) const;

  void reset();

 private:
  sqlite3* db_;  // the connection (not Database, which may move)
  sqlite3_stmt* stmt_;
  Status bind_status_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace hpan::alerts::sql
