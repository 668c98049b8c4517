-- The event-driven side's catalog: one row per photo, assembled from events
-- that arrive in any order. Only the catalog function writes here.
CREATE TABLE photos (
    id             uuid        PRIMARY KEY,
    owner          text        NOT NULL,
    status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    failure_reason text        NOT NULL DEFAULT '',
    format         text        NOT NULL DEFAULT '',
    width          integer     NOT NULL DEFAULT 0,
    height         integer     NOT NULL DEFAULT 0,
    bytes          bigint      NOT NULL DEFAULT 0,
    tags           text[]      NOT NULL DEFAULT '{}',
    colors         text[]      NOT NULL DEFAULT '{}',
    hash           text        NOT NULL DEFAULT '',
    thumbnails     jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    ready_at       timestamptz,
    -- Which events are in: the photo is ready when thumbnails and tags are.
    has_thumbnails boolean     NOT NULL DEFAULT false,
    has_tags       boolean     NOT NULL DEFAULT false,
    -- The MinIO sequencer of the last object event applied (hex, zero-padded
    -- to 32 digits so text order is numeric order): older events are ignored.
    object_seq     text        NOT NULL DEFAULT '',
    -- A deleted photo stays as a tombstone so that late events about it
    -- cannot bring it back; readers never see it.
    deleted        boolean     NOT NULL DEFAULT false
);

CREATE INDEX photos_owner_created ON photos (owner, created_at DESC, id DESC) WHERE NOT deleted;
CREATE INDEX photos_tags ON photos USING gin (tags) WHERE NOT deleted;
