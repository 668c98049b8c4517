package photo

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Cursor is a position in a newest-first listing: the creation time and id
// of the last photo of the previous page. Listings order by (CreatedAt, ID)
// descending, so a cursor stays valid while photos are added or removed.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// String encodes the cursor as an opaque URL-safe token.
func (c Cursor) String() string {
	raw := strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a cursor token; a malformed one is an Invalid error.
func ParseCursor(s string) (Cursor, error) {
	bad := Errorf(Invalid, "malformed cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), ".")
	if !ok || !ValidID(id) {
		return Cursor{}, bad
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || us < 0 {
		return Cursor{}, bad
	}
	return Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// ParseListQuery builds a ListQuery from the API's query parameters (limit
// as text; "" means the default) and checks it: an Invalid error names the
// bad parameter.
func ParseListQuery(owner, tag, limit, cursor string) (ListQuery, error) {
	q := ListQuery{Owner: owner, Tag: tag, Limit: DefaultListLimit, Cursor: cursor}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxListLimit {
			return ListQuery{}, Errorf(Invalid, "limit must be an integer from 1 to %d", MaxListLimit)
		}
		q.Limit = n
	}
	if len(tag) > 64 {
		return ListQuery{}, Errorf(Invalid, "tag is longer than 64 characters")
	}
	if cursor != "" {
		if _, err := ParseCursor(cursor); err != nil {
			return ListQuery{}, err
		}
	}
	return q, nil
}
