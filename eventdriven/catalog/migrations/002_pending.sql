-- The pending timeout (the reconciler's pass) looks for photos still
-- pending after a limit: only pending rows are indexed, so the index stays
-- as small as the backlog.
CREATE INDEX photos_pending ON photos (created_at) WHERE status = 'pending' AND NOT deleted;
