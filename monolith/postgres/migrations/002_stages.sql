-- The stage times of a photo (photo.Photo.ThumbnailedAt, TaggedAt): when
-- its thumbnails were stored and when the vision service's tags were. Rows
-- written before this migration have neither.
ALTER TABLE photos
    ADD COLUMN thumbnailed_at timestamptz,
    ADD COLUMN tagged_at      timestamptz;
