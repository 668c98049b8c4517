package ingest

// Complete exposes complete to the external tests.
var Complete = complete
