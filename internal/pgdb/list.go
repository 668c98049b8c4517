package pgdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/photobench/photobench/photo"
)

// ListPhotos runs the keyset-paginated listing both architectures serve:
// one owner's photos, newest first (created_at, id descending), optionally
// with a tag (a text[] column "tags"), continuing after q.Cursor. from is
// "SELECT <columns> FROM <table>" and filters are extra conditions
// ("NOT deleted"); scan reads one row. It fetches one row more than the
// limit to know whether a next page exists.
func ListPhotos(ctx context.Context, pool *pgxpool.Pool, from string, filters []string, q photo.ListQuery, scan func(pgx.Row) (photo.Photo, error)) (photo.Page, error) {
	where := append([]string{"owner = $1"}, filters...)
	args := []any{q.Owner}
	if q.Tag != "" {
		args = append(args, []string{q.Tag})
		where = append(where, fmt.Sprintf("tags @> $%d", len(args)))
	}
	if q.Cursor != "" {
		c, err := photo.ParseCursor(q.Cursor)
		if err != nil {
			return photo.Page{}, err
		}
		args = append(args, c.CreatedAt, c.ID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	args = append(args, q.Limit+1)
	rows, err := pool.Query(ctx, from+` WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return photo.Page{}, Err("list photos", err)
	}
	photos, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (photo.Photo, error) { return scan(r) })
	if err != nil {
		return photo.Page{}, Err("list photos", err)
	}
	page := photo.Page{Photos: photos}
	if len(photos) > q.Limit {
		page.Photos = photos[:q.Limit]
		last := page.Photos[q.Limit-1]
		page.NextCursor = photo.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.String()
	}
	if page.Photos == nil {
		page.Photos = []photo.Photo{}
	}
	return page, nil
}
