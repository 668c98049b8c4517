package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/photo"
)

// card is one photo of a variant's strip, with what the session needs to
// ask the app about it: the owner (a load user) and whether its stage
// times were read.
type card struct {
	PhotoCard
	user    int
	fetched bool   // the photo's JSON was read once it was final
	thumb   []byte // the small thumbnail, read once when first shown
}

// final records how following the photo ended.
func (c *card) final(r loadgen.ReadyResult) {
	switch r.Outcome {
	case loadgen.ReadyOK:
		c.Status = "ready"
	case loadgen.ReadyFailed:
		c.Status = "failed"
	default:
		c.Status = string(r.Outcome) // timeout, error, canceled: the page says so
	}
	if !r.ServerReady.IsZero() {
		t := r.ServerReady
		c.Ready = &t
	}
}

// card returns the card as the page shows it.
func (c *card) card(label string) PhotoCard {
	p := c.PhotoCard
	if p.Status == "ready" {
		p.ThumbnailURL = "/thumb/" + label + "/" + url.PathEscape(p.ID)
	}
	return p
}

// fetchStages reads, once, the JSON of every photo of the strips that
// became final and has not been read: its stage times (thumbnailed_at,
// tagged_at) and tags. At most StripLength GETs per variant per frame,
// and only for photos in the strip: a few requests a second, beside the
// load's, counted by the apps like any other.
func (s *Session) fetchStages(ctx context.Context) {
	for _, v := range s.vars {
		v.mu.Lock()
		var todo []*card
		for _, c := range v.strip {
			if !c.fetched && (c.Status == "ready" || c.Status == "failed") {
				c.fetched = true
				todo = append(todo, c)
			}
		}
		v.mu.Unlock()
		for _, c := range todo {
			go func() {
				p, err := s.getPhoto(ctx, v, c.user, c.ID)
				if err != nil {
					fmt.Fprintf(s.cfg.Log, "live: %s: read photo %s: %v\n", v.name, c.ID, err)
					return // the card keeps what the follower saw
				}
				v.mu.Lock()
				defer v.mu.Unlock()
				c.Thumbnailed, c.Tagged, c.Tags = p.ThumbnailedAt, p.TaggedAt, p.Tags
				if p.ReadyAt != nil {
					c.Ready = p.ReadyAt
				}
				if !p.CreatedAt.IsZero() {
					c.Accepted = p.CreatedAt
				}
			}()
		}
	}
}

func (s *Session) getPhoto(ctx context.Context, v *variant, user int, id string) (photo.Photo, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := v.target(ctx, user, id)
	if err != nil {
		return photo.Photo{}, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return photo.Photo{}, err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return photo.Photo{}, fmt.Errorf("get photo %s: %s", id, resp.Status)
	}
	var p photo.Photo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p); err != nil {
		return photo.Photo{}, fmt.Errorf("get photo %s: %w", id, err)
	}
	return p, nil
}

// maxThumbnail bounds a thumbnail the session keeps (a small one is
// 256 px, tens of KB).
const maxThumbnail = 1 << 20

// Thumbnail returns the small thumbnail of a photo in variant label's
// strip, read from the app with its owner's token the first time and kept
// while the photo stays in the strip. ok is false for a photo not in the
// strip, or not ready.
func (s *Session) Thumbnail(ctx context.Context, label, id string) (jpeg []byte, ok bool, err error) {
	var v *variant
	for _, x := range s.vars {
		if x.label == label {
			v = x
		}
	}
	if v == nil {
		return nil, false, nil
	}
	v.mu.Lock()
	var c *card
	for _, x := range v.strip {
		if x.ID == id && x.Status == "ready" {
			c = x
		}
	}
	var have []byte
	if c != nil {
		have = c.thumb
	}
	v.mu.Unlock()
	if c == nil {
		return nil, false, nil
	}
	if have != nil {
		return have, true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := v.target(ctx, c.user, id)
	if err != nil {
		return nil, true, err
	}
	req.URL.Path += "/thumbnail"
	req.URL.RawQuery = "size=small"
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, true, fmt.Errorf("thumbnail of %s: %s", id, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxThumbnail+1))
	if err != nil {
		return nil, true, err
	}
	if len(b) > maxThumbnail {
		return nil, true, fmt.Errorf("thumbnail of %s: over %d bytes", id, maxThumbnail)
	}
	v.mu.Lock()
	c.thumb = b
	v.mu.Unlock()
	return b, true, nil
}
