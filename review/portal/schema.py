"""The portal's tables in the state DB: workers and their teams, sessions, and the append-only audit log.

Secrets and session tokens are stored only as hashes (argon2 for secrets, which people choose to keep;
SHA-256 for session tokens, which are random and short-lived), so a copy of state.db signs nobody in.
"""

from __future__ import annotations

from offline.state import register_schema

COMPONENT = "review_portal"

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE portal_workers (
            name TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL,
            admin INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL
        );
        CREATE TABLE portal_team_members (
            team TEXT NOT NULL,
            worker TEXT NOT NULL REFERENCES portal_workers (name) ON DELETE CASCADE,
            added_ms INTEGER NOT NULL,
            PRIMARY KEY (team, worker)
        );
        CREATE INDEX portal_team_members_worker ON portal_team_members (worker, team);
        CREATE TABLE portal_sessions (
            token_sha256 TEXT PRIMARY KEY,
            worker TEXT NOT NULL REFERENCES portal_workers (name) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL
        );
        CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_ms);
        CREATE TABLE portal_audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            worker TEXT,
            action TEXT NOT NULL,
            loop_arn TEXT,
            detail TEXT
        );
        CREATE INDEX portal_audit_loop ON portal_audit (loop_arn, worker, action, at_ms);
        CREATE INDEX portal_audit_worker ON portal_audit (worker, seq);
        CREATE TRIGGER portal_audit_no_update BEFORE UPDATE ON portal_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER portal_audit_no_delete BEFORE DELETE ON portal_audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """
    ],
)
