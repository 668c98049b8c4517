package monolith_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/imaging/imagingtest"
	"github.com/photobench/photobench/photo"
)

// withDecodeBudget sets the process's decode budget for one test.
func withDecodeBudget(t *testing.T, n int64) {
	imaging.SetDecodeBudget(imaging.NewBudget(n))
	t.Cleanup(func() { imaging.SetDecodeBudget(imaging.NewBudget(imaging.DefaultDecodeBudget)) })
}

// An image whose decode estimate is over the whole budget is refused as
// too large to decode: 422 from the synchronous monolith, nothing stored;
// a failed photo with that reason from the asynchronous one.
func TestUploadOverTheDecodeBudget(t *testing.T) {
	img := imagingtest.FlatPNG(1000, 800, 8, imagingtest.PNGRGBA, false)
	withDecodeBudget(t, 1<<20)

	a := newApp(t, appOptions{})
	tok := token(t, "budget")
	resp, body := do(t, "POST", a.URL+"/v1/photos", tok, img)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "decode budget") {
		t.Errorf("upload answered %d %s, want 422 naming the decode budget", resp.StatusCode, body)
	}
	if left := a.Stored(t); len(left) > 0 {
		t.Errorf("files left behind: %v", left)
	}

	async := newApp(t, appOptions{async: asyncOptions()})
	id := uploadPending(t, async.URL, tok, img)
	allStatus(t, async.URL, tok, []string{id}, photo.StatusFailed, 30*time.Second)
	if _, p := getPhoto(t, async.URL, tok, id); !strings.Contains(p.FailureReason, "decode budget") {
		t.Errorf("failure reason %q, want one naming the decode budget", p.FailureReason)
	}
}

// The costliest images under the limits (imagingtest.Corpus) are admitted
// by the default budget and made into a photo, one at a time.
func TestUploadHostileImages(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 40-megapixel images")
	}
	a := newApp(t, appOptions{})
	tok := token(t, "hostile")
	// The worst PNG of photo proportions, and the worst of all.
	for _, name := range []string{"png-rgba16-adam7", "jpeg-progressive-cmyk"} {
		in := imagingtest.Find(name)
		t.Run(in.Name, func(t *testing.T) {
			resp, body := do(t, "POST", a.URL+"/v1/photos", tok, in.Make())
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload answered %d %s, want 201", resp.StatusCode, body)
			}
		})
	}
}
