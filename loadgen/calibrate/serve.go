package calibrate

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Body is what the trivial server answers: 20 bytes, so that the calibration
// measures the generators' per-request cost rather than transfer.
const Body = "photobench calibrate"

// Handler is the trivial target: 200 and Body for GET (and HEAD) of any path,
// 405 for other methods.
func Handler() http.Handler {
	body := []byte(Body)
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Direct map writes: the canonical keys without Set's canonicalising.
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		h["Content-Length"] = []string{length}
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// Serve serves Handler on addr until ctx ends, then shuts down (in-flight
// requests get up to 5 s). Once the socket is bound it prints the listening
// address, host:port, as the first line of stdout, so that a parent that asked
// for port 0 knows where it is.
func Serve(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	if _, err := fmt.Fprintln(stdout, ln.Addr().String()); err != nil {
		ln.Close()
		return fmt.Errorf("serve: print address: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
