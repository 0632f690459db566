-- The TUF repository (issue 3): every signed metadata version ringfenced has
-- published, stored as the exact bytes it serves, and the targets it lists.
-- Versions are taken under an advisory lock (store_tuf.c); the primary key
-- makes a raced version fail rather than fork the repository.

CREATE TABLE tuf_metadata (
    role        text NOT NULL CHECK (role IN ('root', 'targets', 'snapshot', 'timestamp')),
    version     bigint NOT NULL CHECK (version >= 1),
    body        text NOT NULL,                   -- canonical JSON, byte for byte as served
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, version)
);

-- A pushed bundle becomes the target "<channel>/<name>-<version>".
CREATE TABLE tuf_targets (
    path        text PRIMARY KEY,
    bundle_id   bigint NOT NULL UNIQUE REFERENCES bundles(id),
    length      bigint NOT NULL CHECK (length >= 0),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Bundles pushed before the repository existed are listed by its first
-- targets.json. The per-bundle signed envelope is no longer written.
INSERT INTO tuf_targets (path, bundle_id, length, sha256)
    SELECT channel || '/' || name || '-' || version, id, length, sha256 FROM bundles
    WHERE channel NOT IN ('.', '..')
    ORDER BY id
    ON CONFLICT DO NOTHING;
ALTER TABLE bundles ALTER COLUMN metadata SET DEFAULT '{}';
