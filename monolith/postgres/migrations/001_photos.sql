-- The monolith's whole state: one row per photo, its thumbnails' rows.
CREATE TABLE photos (
    id             uuid        PRIMARY KEY,
    owner          text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    failure_reason text        NOT NULL DEFAULT '',
    format         text        NOT NULL,
    width          integer     NOT NULL,
    height         integer     NOT NULL,
    bytes          bigint      NOT NULL,
    tags           text[]      NOT NULL DEFAULT '{}',
    colors         text[]      NOT NULL DEFAULT '{}',
    hash           text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    ready_at       timestamptz
);

-- Listing: one user's photos, newest first, keyset-paginated.
CREATE INDEX photos_owner_created ON photos (owner, created_at DESC, id DESC);
-- Search by tag.
CREATE INDEX photos_tags ON photos USING gin (tags);

CREATE TABLE thumbnails (
    photo_id uuid    NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    size     text    NOT NULL,
    width    integer NOT NULL,
    height   integer NOT NULL,
    bytes    bigint  NOT NULL,
    PRIMARY KEY (photo_id, size)
);
