#include "alerts/store.h"

#include <array>
#include <string_view>

namespace hpan::alerts {
namespace {

// Migration N takes the schema from version N-1 to N. Append only; never edit one
// that has shipped.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // 1: notices, versions, bodies, outbox, audit log, checkpoints.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE notice_sequence (
  year INTEGER PRIMARY KEY,
  last INTEGER NOT NULL
) STRICT;

CREATE TABLE notices (
  id                     TEXT PRIMARY KEY,
  state                  TEXT NOT NULL CHECK (state IN
                           ('draft','approved','notified','active','revoked','withdrawn','purged')),
  content                TEXT NOT NULL,          -- normalised JSON (personal data)
  subject_regulator      TEXT NOT NULL DEFAULT '',
  subject_number         TEXT NOT NULL DEFAULT '',
  subject_name_key       TEXT NOT NULL DEFAULT '',
  subject_dob            TEXT NOT NULL DEFAULT '',
  created_at             INTEGER NOT NULL,
  created_by             TEXT NOT NULL,
  created_uid            INTEGER NOT NULL,
  approved_at            INTEGER,
  approved_by            TEXT,
  informed_at            INTEGER,
  representation_ends_at INTEGER,
  issued_at              INTEGER,
  urgent                 INTEGER NOT NULL DEFAULT 0,
  urgent_reason          TEXT NOT NULL DEFAULT '',
  next_review_due        TEXT,                   -- London calendar date
  last_reviewed_at       INTEGER,
  revoked_at             INTEGER,
  revocation_reason      TEXT NOT NULL DEFAULT '',
  withdrawn_at           INTEGER,
  withdrawal_reason      TEXT NOT NULL DEFAULT '',
  purge_after            INTEGER,
  purged_at              INTEGER,
  current_version        INTEGER NOT NULL DEFAULT 0,
  pending_action         TEXT,                   -- JSON: a change awaiting its checker
  updated_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_by_registration ON notices(subject_regulator, subject_number);
CREATE INDEX notices_by_name ON notices(subject_name_key, subject_dob);
CREATE INDEX notices_by_state ON notices(state);

CREATE TABLE notice_versions (
  notice_id    TEXT NOT NULL REFERENCES notices(id),
  version      INTEGER NOT NULL,
  type         TEXT NOT NULL CHECK (type IN ('issued','updated','revoked')),
  content      TEXT NOT NULL,                    -- normalised JSON at this version
  content_hash TEXT NOT NULL,                    -- hex SHA-256 of the canonical content
  created_at   INTEGER NOT NULL,
  maker        TEXT NOT NULL,
  checker      TEXT NOT NULL,
  PRIMARY KEY (notice_id, version)
) STRICT;

CREATE TABLE bodies (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  kind           TEXT NOT NULL,
  region         TEXT NOT NULL DEFAULT '',
  regulator      TEXT NOT NULL DEFAULT '',       -- for kind 'regulator': GMC, GDC, ...
  webhook_url    TEXT NOT NULL DEFAULT '',
  webhook_secret TEXT NOT NULL DEFAULT '',       -- base64; '' when none
  emails         TEXT NOT NULL DEFAULT '[]',     -- JSON array
  public_key     TEXT NOT NULL,                  -- base64 X25519
  fingerprint    TEXT NOT NULL,
  receives       TEXT NOT NULL CHECK (receives IN ('all','selected')),
  state          TEXT NOT NULL CHECK (state IN ('active','suspended','removed')),
  added_at       INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
  delivery_id     TEXT PRIMARY KEY,
  notice_id       TEXT NOT NULL REFERENCES notices(id),
  version         INTEGER NOT NULL,
  body_id         TEXT NOT NULL REFERENCES bodies(id),
  channel         TEXT NOT NULL CHECK (channel IN ('webhook','email')),
  address         TEXT NOT NULL,                 -- URL or email address at queue time
  message_type    TEXT NOT NULL CHECK (message_type IN ('issued','updated','revoked')),
  state           TEXT NOT NULL CHECK (state IN
                    ('pending','in_flight','delivered','failed','dead','cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  FOREIGN KEY (notice_id, version) REFERENCES notice_versions(notice_id, version)
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_by_notice ON outbox(notice_id, version);
CREATE INDEX outbox_by_body ON outbox(body_id, state);

CREATE TABLE delivery_attempts (
  delivery_id TEXT NOT NULL REFERENCES outbox(delivery_id),
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (delivery_id, attempt)
) STRICT;

CREATE TABLE reviews (
  notice_id  TEXT NOT NULL REFERENCES notices(id),
  at         INTEGER NOT NULL,
  by_user    TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  next_due   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,                 -- 0-based leaf index
  record    TEXT NOT NULL,                       -- canonical JSON, no personal data
  leaf_hash BLOB NOT NULL
) STRICT;

CREATE TABLE checkpoints (
  size       INTEGER PRIMARY KEY,
  note       TEXT NOT NULL,                      -- C2SP signed note
  created_at INTEGER NOT NULL
) STRICT;
)sql",
    // 2: the outbox also carries messages that are not notices (escalations of dead
    // deliveries; reminders later): notice and body become optional, `message` holds the
    // message's fields (no personal data). SQLite cannot alter a CHECK, so the table is
    // rebuilt (foreign keys are off during migrations; checked after).
    R"sql(
CREATE TABLE outbox_v2 (
  delivery_id     TEXT PRIMARY KEY,
  notice_id       TEXT REFERENCES notices(id),
  version         INTEGER,
  body_id         TEXT REFERENCES bodies(id),
  channel         TEXT NOT NULL CHECK (channel IN ('webhook','email')),
  address         TEXT NOT NULL,
  message_type    TEXT NOT NULL CHECK (message_type IN ('issued','updated','revoked','escalation','reminder')),
  message         TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL CHECK (state IN
                    ('pending','in_flight','delivered','failed','dead','cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  FOREIGN KEY (notice_id, version) REFERENCES notice_versions(notice_id, version),
  CHECK ((notice_id IS NULL) = (message_type IN ('escalation','reminder')))
) STRICT;
INSERT INTO outbox_v2(delivery_id, notice_id, version, body_id, channel, address, message_type,
                      state, attempts, next_attempt_at, last_error, created_at, updated_at, delivered_at)
  SELECT delivery_id, notice_id, version, body_id, channel, address, message_type,
         state, attempts, next_attempt_at, last_error, created_at, updated_at, delivered_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_by_notice ON outbox(notice_id, version);
CREATE INDEX outbox_by_body ON outbox(body_id, state);
)sql",
    // 3: cases and their reminders (DESIGN §2). Reminders go out through the outbox
    // (message_type 'reminder'); `reminders` makes them idempotent: one per case, due
    // date and slot. Notes may hold personal data and never leave the store.
    R"sql(
CREATE TABLE case_sequence (
  year INTEGER PRIMARY KEY,
  last INTEGER NOT NULL
) STRICT;

CREATE TABLE cases (
  id               TEXT PRIMARY KEY,
  kind             TEXT NOT NULL CHECK (kind IN
                     ('hpan-review','exclusion','suspension','restriction','action-plan','follow-up')),
  notice_id        TEXT REFERENCES notices(id),   -- the notice an hpan-review case follows
  owner_emails     TEXT NOT NULL DEFAULT '',      -- comma-separated
  owner_webhook    TEXT NOT NULL DEFAULT '',
  interval_months  INTEGER NOT NULL DEFAULT 0,    -- both 0: due dates are set by hand
  interval_days    INTEGER NOT NULL DEFAULT 0,
  due_date         TEXT NOT NULL,                 -- London calendar date
  state            TEXT NOT NULL CHECK (state IN ('open','closed')),
  notes            TEXT NOT NULL DEFAULT '',      -- never in reminders, logs or audit
  handled_until    INTEGER NOT NULL,              -- reminder slots up to here are done
  escalated        INTEGER NOT NULL DEFAULT 0,    -- for the current due date
  next_reminder_at INTEGER,                       -- NULL: nothing left to send
  opened_at        INTEGER NOT NULL,
  opened_by        TEXT NOT NULL,
  reviewed_at      INTEGER,
  closed_at        INTEGER,
  closed_by        TEXT NOT NULL DEFAULT '',
  close_reason     TEXT NOT NULL DEFAULT '',
  updated_at       INTEGER NOT NULL,
  CHECK ((notice_id IS NULL) = (kind <> 'hpan-review'))
) STRICT;
CREATE UNIQUE INDEX cases_one_review_per_notice ON cases(notice_id) WHERE notice_id IS NOT NULL;
CREATE INDEX cases_next_reminder ON cases(state, next_reminder_at);

CREATE TABLE case_events (
  case_id  TEXT NOT NULL REFERENCES cases(id),
  at       INTEGER NOT NULL,
  by_user  TEXT NOT NULL,
  event    TEXT NOT NULL,                         -- opened | reviewed | reassigned | closed
  due_date TEXT NOT NULL DEFAULT '',
  note     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX case_events_by_case ON case_events(case_id, at);

CREATE TABLE reminders (
  case_id    TEXT NOT NULL REFERENCES cases(id),
  due_date   TEXT NOT NULL,
  slot       TEXT NOT NULL,                       -- lead-14d | due | overdue-3d | escalation
  slot_at    INTEGER NOT NULL,
  queued_at  INTEGER NOT NULL,
  late       INTEGER NOT NULL,
  missed     INTEGER NOT NULL DEFAULT 0,          -- earlier slots this one stands for
  deliveries INTEGER NOT NULL,
  PRIMARY KEY (case_id, due_date, slot)
) STRICT;
)sql",
    // 4: indexes for the delivery engine's claim (due rows in due order, without sorting
    // every pending row on each claim) and for clock recovery (open cases by handled_until).
    R"sql(
CREATE INDEX outbox_ready ON outbox(next_attempt_at) WHERE state IN ('pending','failed');
CREATE INDEX cases_open_by_handled ON cases(handled_until) WHERE state = 'open';
)sql",
};

}  // namespace

Result<Store> Store::open(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return make_error("storage_error",
                      "cannot create state folder " + state_dir.string() + ": " + ec.message());
  return open_file((state_dir / "hpand.sqlite").string());
}

Result<Store> Store::open_file(const std::string& path) {
  HPAN_TRY_ASSIGN(db, sql::Database::open(path));
  return migrate(std::move(db));
}

Result<Store> Store::migrate(sql::Database db) {
  HPAN_TRY_ASSIGN(stmt, db.prepare("PRAGMA user_version"));
  HPAN_TRY_ASSIGN(has_row, stmt->step());
  const int current = has_row ? static_cast<int>(stmt->column_int(0)) : 0;
  stmt->reset();
  if (current > kSchemaVersion) {
    return make_error("schema_too_new",
                      "the database has schema version " + std::to_string(current) +
                          " but this hpand understands up to " + std::to_string(kSchemaVersion) +
                          "; run a newer hpand or restore a backup");
  }
  if (current < kSchemaVersion) {
    // Table rebuilds need foreign keys off (it cannot change inside a transaction);
    // every migration's result is checked with foreign_key_check before it commits.
    HPAN_TRY(db.exec("PRAGMA foreign_keys=OFF"));
    for (int v = current + 1; v <= kSchemaVersion; ++v) {
      HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(db));
      HPAN_TRY(db.exec(kMigrations[static_cast<std::size_t>(v - 1)]));
      HPAN_TRY_ASSIGN(fk, db.prepare("PRAGMA foreign_key_check"));
      HPAN_TRY_ASSIGN(broken, fk->step());
      fk->reset();
      if (broken)
        return make_error("storage_error", "migration " + std::to_string(v) + " broke a foreign key");
      HPAN_TRY(db.exec("PRAGMA user_version = " + std::to_string(v)));
      HPAN_TRY(tx.commit());
    }
    HPAN_TRY(db.exec("PRAGMA foreign_keys=ON"));
  }
  return Store(std::move(db), kSchemaVersion);
}

Result<std::string> Store::integrity_check() {
  HPAN_TRY_ASSIGN(stmt, db_.prepare("PRAGMA integrity_check"));
  std::string out;
  while (true) {
    HPAN_TRY_ASSIGN(row, stmt->step());
    if (!row) break;
    if (!out.empty()) out += "\n";
    out += stmt->column_text(0);
  }
  return out;
}

Result<std::string> Store::get_meta(std::string_view key) {
  HPAN_TRY_ASSIGN(stmt, db_.prepare("SELECT value FROM meta WHERE key = ?"));
  stmt->bind(1, key);
  HPAN_TRY_ASSIGN(row, stmt->step());
  std::string value = row ? stmt->column_text(0) : std::string();
  stmt->reset();
  return value;
}

Status Store::set_meta(std::string_view key, std::string_view value) {
  HPAN_TRY_ASSIGN(stmt, db_.prepare(
                            "INSERT INTO meta(key, value) VALUES(?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  stmt->bind(1, key).bind(2, value);
  return stmt->run();
}

}  // namespace hpan::alerts
