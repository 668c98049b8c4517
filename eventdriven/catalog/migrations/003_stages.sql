-- The stage times of a photo (photo.Photo.ThumbnailedAt, TaggedAt), each
-- set by the first photo.thumbnailed or photo.tagged event applied: the
-- event's time (the producer's clock), or the catalog's when it has none.
-- Rows written before this migration have neither.
ALTER TABLE photos
    ADD COLUMN thumbnailed_at timestamptz,
    ADD COLUMN tagged_at      timestamptz;
