//! The current schema (spec §7.2, §7.3, and version 4's optional email) as idempotent
//! `CREATE … IF NOT EXISTS` statements.
//!
//! Every startup runs [`TABLES`] and [`INDEXES`]; on a current database they are no-ops.
//! Changes to an existing table are versioned steps in [`super::upgrade`].

/// Tables of §7.2. No foreign keys are declared; cascades are done explicitly. Unlike §7.2,
/// `server_users.email` may be NULL (an account without an address; schema 4).
pub(crate) const TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS server_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    api_key TEXT NOT NULL UNIQUE,
    token_hash TEXT UNIQUE,
    token_prefix TEXT,
    token_suffix TEXT,
    legacy_api_key INTEGER NOT NULL DEFAULT 0,
    user_id TEXT,
    vault_id TEXT,
    client_version TEXT,
    last_ip TEXT,
    last_seen TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_user_devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
CREATE TABLE IF NOT EXISTS server_scopes (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    last_sequence INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, vault_id)
);
CREATE TABLE IF NOT EXISTS server_ops (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    server_sequence INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op_type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    idempotency_key TEXT,
    client_sequence INTEGER DEFAULT 0,
    last_seen_server_seq INTEGER DEFAULT 0,
    created_at TEXT NOT NULL,
    pushed_at TEXT NOT NULL,
    PRIMARY KEY (user_id, vault_id, op_id)
);
CREATE TABLE IF NOT EXISTS server_tombstones (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, vault_id, entity_type, entity_id)
);
CREATE TABLE IF NOT EXISTS server_idempotency_keys (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, vault_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS server_email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_sessions (
    token_hash TEXT PRIMARY KEY,
    csrf_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_blob_refs (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    last_accessed TEXT NOT NULL,
    PRIMARY KEY (user_id, vault_id, sha256)
);
CREATE TABLE IF NOT EXISTS server_audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    ip TEXT,
    message TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_smtp_config (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Indexes of §7.3.
pub(crate) const INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS idx_server_devices_user ON server_devices(user_id);
CREATE INDEX IF NOT EXISTS idx_server_devices_user_vault ON server_devices(user_id, vault_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_server_ops_scope_seq ON server_ops(user_id, vault_id, server_sequence);
CREATE INDEX IF NOT EXISTS idx_server_blob_refs_user_sha ON server_blob_refs(user_id, sha256);
CREATE INDEX IF NOT EXISTS idx_server_sessions_expires ON server_sessions(expires_at);
CREATE INDEX IF NOT EXISTS idx_server_sessions_subject ON server_sessions(scope, subject_id);
CREATE INDEX IF NOT EXISTS idx_server_email_tokens_user ON server_email_tokens(user_id, purpose);
CREATE INDEX IF NOT EXISTS idx_server_email_tokens_expires ON server_email_tokens(expires_at);
CREATE INDEX IF NOT EXISTS idx_server_idempotency_created ON server_idempotency_keys(created_at);
CREATE INDEX IF NOT EXISTS idx_server_audit_event ON server_audit_log(event_type);
CREATE INDEX IF NOT EXISTS idx_server_audit_created ON server_audit_log(created_at);
"#;

/// Not in the spec: blob bytes per scope, kept by triggers on `server_blob_refs`, so the quota
/// check of an upload (§4.9) reads a row or two instead of summing every ref of the user inside
/// the writer (235 ms per upload at 100,000 refs). Triggers keep it right on every path that
/// changes refs, rollbacks included. [`BLOB_USAGE_FILL`] fills it when it is new.
pub(crate) const BLOB_USAGE: &str = r#"
CREATE TABLE IF NOT EXISTS server_blob_usage (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (user_id, vault_id)
);
CREATE TRIGGER IF NOT EXISTS server_blob_usage_add AFTER INSERT ON server_blob_refs BEGIN
    INSERT OR IGNORE INTO server_blob_usage (user_id, vault_id, bytes) VALUES (NEW.user_id, NEW.vault_id, 0);
    UPDATE server_blob_usage SET bytes = bytes + NEW.size WHERE user_id = NEW.user_id AND vault_id = NEW.vault_id;
END;
CREATE TRIGGER IF NOT EXISTS server_blob_usage_remove AFTER DELETE ON server_blob_refs BEGIN
    UPDATE server_blob_usage SET bytes = bytes - OLD.size WHERE user_id = OLD.user_id AND vault_id = OLD.vault_id;
END;
CREATE TRIGGER IF NOT EXISTS server_blob_usage_change AFTER UPDATE OF user_id, vault_id, size ON server_blob_refs BEGIN
    UPDATE server_blob_usage SET bytes = bytes - OLD.size WHERE user_id = OLD.user_id AND vault_id = OLD.vault_id;
    INSERT OR IGNORE INTO server_blob_usage (user_id, vault_id, bytes) VALUES (NEW.user_id, NEW.vault_id, 0);
    UPDATE server_blob_usage SET bytes = bytes + NEW.size WHERE user_id = NEW.user_id AND vault_id = NEW.vault_id;
END;
"#;

/// Fills a new (empty) `server_blob_usage` from the refs.
pub(crate) const BLOB_USAGE_FILL: &str = "INSERT INTO server_blob_usage (user_id, vault_id, bytes)
    SELECT user_id, vault_id, SUM(size) FROM server_blob_refs GROUP BY user_id, vault_id";

/// The schema version this server writes into `PRAGMA user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 7;

/// Version 5 (`docs/compacted-joins.md`): each op's compaction class
/// (0 = head, 1 = superseded, 2 = barrier), the scope's latest barrier, what the server knows
/// of each device's progress, and when a blob lost its last ref. Run once by the 4 → 5 step.
pub(crate) const V5_COLUMNS: &[(&str, &str, &str)] = &[
    ("server_ops", "compaction", "INTEGER NOT NULL DEFAULT 0"),
    (
        "server_scopes",
        "last_barrier",
        "INTEGER NOT NULL DEFAULT 0",
    ),
    ("server_blobs", "orphaned_at", "TEXT"),
];

/// The version 5 tables and indexes (idempotent, run on every start of a version 5 database).
pub(crate) const V5_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS server_device_sync (
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    last_push_sequence INTEGER NOT NULL DEFAULT 0,
    pulled_sequence INTEGER NOT NULL DEFAULT 0,
    pulled_at TEXT,
    PRIMARY KEY (device_id, user_id, vault_id)
);
CREATE INDEX IF NOT EXISTS idx_server_ops_heads ON server_ops(user_id, vault_id, server_sequence) WHERE compaction <> 1;
CREATE INDEX IF NOT EXISTS idx_server_ops_barriers ON server_ops(user_id, vault_id, server_sequence) WHERE compaction = 2;
CREATE INDEX IF NOT EXISTS idx_server_device_sync_scope ON server_device_sync(user_id, vault_id);
CREATE TABLE IF NOT EXISTS server_session_notes (
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, kind)
);
CREATE INDEX IF NOT EXISTS idx_server_blobs_orphaned ON server_blobs(orphaned_at) WHERE orphaned_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_server_blob_refs_sha ON server_blob_refs(sha256);
CREATE TRIGGER IF NOT EXISTS server_blob_orphaned AFTER DELETE ON server_blob_refs
WHEN NOT EXISTS (SELECT 1 FROM server_blob_refs WHERE sha256 = OLD.sha256) BEGIN
    UPDATE server_blobs SET orphaned_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE sha256 = OLD.sha256;
END;
CREATE TRIGGER IF NOT EXISTS server_blob_adopted AFTER INSERT ON server_blob_refs BEGIN
    UPDATE server_blobs SET orphaned_at = NULL WHERE sha256 = NEW.sha256 AND orphaned_at IS NOT NULL;
END;
"#;

/// Version 6: the settings the admin console saved, shared by every server process of one
/// database (`store::settings`). Run by the 5 → 6 step and on every start of a version 6
/// database.
pub(crate) const V6_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS server_console_settings (
    section TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    revision TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"#;

/// Version 7, SQLite only (`store::chain`, server/README.md "Entity chains"): each entity's
/// newest op, in place of the index over every op's entity. Run by the 6 → 7 step (which also
/// adds [`V7_COLUMNS`], links the stored history and drops the index) and on every start of a
/// version 7 database.
pub(crate) const V7_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS server_entity_heads (
    user_id TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    head_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, vault_id, entity_type, entity_id)
) WITHOUT ROWID;
"#;

/// Version 7, SQLite only: the sequences of the previous and the next op of the same entity
/// (NULL at either end of its chain).
pub(crate) const V7_COLUMNS: &[(&str, &str, &str)] = &[
    ("server_ops", "prev_seq", "INTEGER"),
    ("server_ops", "next_seq", "INTEGER"),
];

/// What only the SQLite layout has, left out when a database is copied into PostgreSQL
/// (`crate::copy`): PostgreSQL keeps the entity index instead.
pub(crate) const SQLITE_ONLY_TABLES: &[&str] = &["server_entity_heads"];
