#include "alerts/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <memory>
#include <unordered_map>

namespace hpan::alerts::sql {

struct Database::Cache {
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements;
};

namespace {

std::string_view code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL: return "storage_full";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return "storage_busy";
    case SQLITE_IOERR: return "storage_io_error";
    default: return "storage_error";
  }
}

// The error for the last failing call on `db`, with `context` in the message.
Error error_from(sqlite3* db, std::string_view context) {
  const int rc = sqlite3_extended_errcode(db);
  return make_error(std::string(code_for(rc)),
                    "database " + std::string(context) + ": " + sqlite3_errmsg(db));
}

}  // namespace

Result<Database> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  // Files are created 0600: umask for the call, since SQLite creates with 0644.
  const mode_t old_mask = ::umask(077);
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  Database result(db);
  if (rc != SQLITE_OK) {
    ::umask(old_mask);
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return make_error(std::string(code_for(rc)), "cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  result.cache_ = new Cache();
  // journal_mode=WAL creates the -wal and -shm files; keep the umask until then.
  Status st = result.exec(
      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
      " PRAGMA trusted_schema=OFF;");
  ::umask(old_mask);
  if (!st) return std::move(st).error();
  return result;
}

Database::Database(Database&& other) noexcept : db_(other.db_), cache_(other.cache_) {
  other.db_ = nullptr;
  other.cache_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = other.db_;
    cache_ = other.cache_;
    other.db_ = nullptr;
    other.cache_ = nullptr;
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() noexcept {
  delete cache_;  // finalises statements before the connection closes
  cache_ = nullptr;
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return make_error(std::string(code_for(rc)), "database: " + msg);
  }
  return {};
}

Result<Statement*> Database::prepare(std::string_view sql) {
  auto key = std::string(sql);
  auto it = cache_->statements.find(key);
  if (it != cache_->statements.end()) {
    it->second->reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return last_error("prepare");
  auto owned = std::make_unique<Statement>(db_, stmt);
  Statement* raw = owned.get();
  cache_->statements.emplace(std::move(key), std::move(owned));
  return raw;
}

void Database::reset_statements() {
  for (auto& [sql, statement] : cache_->statements) statement->reset();
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Error Database::last_error(std::string_view context) const { return error_from(db_, context); }

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_status_ = {};
}

namespace {
void note_bind(Status& status, sqlite3* db, int rc) {
  if (rc != SQLITE_OK && status.ok()) status = error_from(db, "bind");
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(bind_status_, db_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  note_bind(bind_status_, db_,
            sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob(int index, std::span<const std::uint8_t> blob) {
  note_bind(bind_status_, db_,
            sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(bind_status_, db_, sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_.error();
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = error_from(db_, "step");
  sqlite3_reset(stmt_);
  return e;
}

Status Statement::run() {
  while (true) {
    auto r = step();
    if (!r) return std::move(r).error();
    if (!*r) return {};
  }
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* p = sqlite3_column_text(stmt_, index);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
}

std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

std::vector<std::uint8_t> Statement::column_blob(int index) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  if (p == nullptr) return {};
  return {p, p + n};
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(Database& db) {
  Status st = db.exec("BEGIN IMMEDIATE");
  if (!st) return std::move(st).error();
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status st = db_->exec("COMMIT");
  if (st) db_ = nullptr;
  return st;
}

}  // namespace hpan::alerts::sql
