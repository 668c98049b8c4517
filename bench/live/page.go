package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/live/ops"
)

//go:embed assets
var assets embed.FS

// Server is the live page's HTTP side: the page, its event stream, the
// controls, the thumbnails of the strips and the export.
//
// Who may press the controls: every control is a POST carrying the
// session's control key, which only a presenter's page contains (so that
// no other web page the presenter has open can press them: it cannot read
// the key). On a loopback address whoever opens the page is the presenter,
// unless a presenter token is set; with a token (required on any other
// address) a browser becomes the presenter by opening /?token=TOKEN once
// (a cookie keeps it), and everyone else gets the page without controls.
type Server struct {
	s        *Session
	token    string // the presenter token; "" lets every loopback client press
	key      string // the control key embedded in presenters' pages
	loopback bool   // the listener's address is loopback: Host headers must be too
	speed    float64
	page     *template.Template

	mu        sync.Mutex // guards the last update rendered, shared by every page
	updatedAt time.Time
	updateMsg []byte
}

// NewServer serves session s. token is the presenter token ("" for none);
// loopback says whether the page is served on a loopback address only.
// speed scales the scenes' waits (1 in real time).
func NewServer(s *Session, token string, loopback bool, speed float64) (*Server, error) {
	if !loopback && token == "" {
		return nil, errors.New("live: a presenter token is required off loopback")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	t, err := template.New("page.html").Funcs(funcs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if speed <= 0 {
		speed = 1
	}
	return &Server{s: s, token: token, key: hex.EncodeToString(b), loopback: loopback, speed: speed, page: t}, nil
}

// presenterCookie keeps a browser's presenter token.
const presenterCookie = "photobench_presenter"

// Handler returns the routes.
func (v *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(v.checkHost)
	static, _ := fs.Sub(assets, "assets")
	r.Get("/", v.handlePage)
	r.Get("/events", v.handleEvents)
	r.Get("/frame.json", v.handleFrame)
	r.Get("/export", v.handleExport)
	r.Get("/thumb/{label}/{id}", v.handleThumb)
	r.Post("/control", v.handleControl)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	return r
}

// checkHost refuses a Host header that is not a loopback name when the
// page is served on loopback: a web page on another site that makes its
// own name resolve to 127.0.0.1 (DNS rebinding) gets nothing.
func (v *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v.loopback {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if !loopbackName(host) {
				writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "this page is served to loopback names only (localhost, 127.0.0.1, [::1])"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// presenter reports whether r may press the controls.
func (v *Server) presenter(r *http.Request) bool {
	if v.token == "" {
		return true
	}
	c, err := r.Cookie(presenterCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(v.token)) == 1
}

// view is what the page template renders.
type view struct {
	Frame     Frame
	Columns   []column
	Marks     []Mark // newest first, at most 30
	Presenter bool
	Key       string
	Shapes    []string
	Visions   []string
	Functions []string
	Servers   []string
	Scenes    []Scene
	MaxRate   float64
	Stack     bool
	Msg       string
}

// column is one variant as the page shows it.
type column struct {
	V      VariantFrame
	Charts []Chart
}

func (v *Server) view(r *http.Request) view {
	f := v.s.Latest()
	f.Load, f.Vision = v.s.State() // the controls show what is set now, also before the first frame
	marks := v.s.Marks()
	frames := v.s.Frames()
	charts := Columns(frames, marks, LiveWindow, ColumnSize)
	vw := view{Frame: f, Presenter: v.presenter(r), Key: v.key, Shapes: Shapes, Visions: VisionStates,
		Functions: ops.Functions(), Servers: ops.Servers, Scenes: Scenes, MaxRate: v.s.cfg.MaxRate, Stack: v.s.cfg.HaveStack}
	variants := f.Variants
	if len(variants) == 0 { // before the first frame: the columns, empty
		for _, name := range Variants {
			variants = append(variants, VariantFrame{Name: name, Label: demo.Label(name), Offered: NA, Achieved: NA,
				AckP50: NA, AckP99: NA, ReadyP50: NA, ReadyP99: NA, Backlog: NA, DLQ: NA, Reconciled: NA, CPU: NA, CostPerMillion: NA})
		}
	}
	for i, vf := range variants {
		c := column{V: vf}
		if i < len(charts) {
			c.Charts = charts[i]
		}
		vw.Columns = append(vw.Columns, c)
	}
	for i := len(marks) - 1; i >= 0 && len(vw.Marks) < 30; i-- {
		vw.Marks = append(vw.Marks, marks[i])
	}
	return vw
}

func (v *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	if tok := r.URL.Query().Get("token"); tok != "" && v.token != "" {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(v.token)) != 1 {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "wrong presenter token"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: presenterCookie, Value: v.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	vw := v.view(r)
	vw.Msg = r.URL.Query().Get("msg")
	var buf bytes.Buffer
	if err := v.page.ExecuteTemplate(&buf, "page.html", vw); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// Update is one message of the event stream: the frame, the timeline's
// newest entries, and the page's parts rendered by the server (the page
// swaps them in: no chart code runs in the browser).
type Update struct {
	Frame Frame    `json:"frame"`
	Marks []Mark   `json:"marks"`
	HTML  PageHTML `json:"html"`
}

// PageHTML are the server-rendered parts of the page.
type PageHTML struct {
	Status   string   `json:"status"`
	Columns  []string `json:"columns"`
	Timeline string   `json:"timeline"`
}

// update renders the stream's message for the page's current state, once
// per frame for every page watching (the streamed parts are the same for
// presenters and viewers).
func (v *Server) update(r *http.Request) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if at := v.s.Latest().At; !at.IsZero() && at.Equal(v.updatedAt) {
		return v.updateMsg, nil
	}
	vw := v.view(r)
	u := Update{Frame: vw.Frame, Marks: vw.Marks}
	var buf bytes.Buffer
	render := func(name string, data any) (string, error) {
		buf.Reset()
		err := v.page.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	var err error
	if u.HTML.Status, err = render("status", vw); err != nil {
		return nil, err
	}
	if u.HTML.Timeline, err = render("timeline", vw); err != nil {
		return nil, err
	}
	for _, c := range vw.Columns {
		h, err := render("column", c)
		if err != nil {
			return nil, err
		}
		u.HTML.Columns = append(u.HTML.Columns, h)
	}
	msg, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	v.updatedAt, v.updateMsg = vw.Frame.At, msg
	return msg, nil
}

// handleEvents streams an Update after every frame (Server-Sent Events,
// event "frame"), until the page goes away.
func (v *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch := v.s.subscribe()
	defer v.s.unsubscribe(ch)
	for v.s.Latest().At.IsZero() { // no frame yet: wait for the first
		select {
		case <-r.Context().Done():
			return
		case <-v.s.ended:
			return
		case <-ch:
		}
	}
	send := func() bool {
		msg, err := v.update(r)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: frame\ndata: %s\n\n", msg); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send() {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-v.s.ended:
			return
		case <-ch:
			if !send() {
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func (v *Server) handleFrame(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Update{Frame: v.s.Latest(), Marks: v.s.Marks()})
}

func (v *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	snap := v.s.Snapshot()
	var buf bytes.Buffer
	if err := Export(&buf, snap); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+snap.FileName()+`"`)
	w.Write(buf.Bytes())
}

func (v *Server) handleThumb(w http.ResponseWriter, r *http.Request) {
	b, ok, err := v.s.Thumbnail(r.Context(), chi.URLParam(r, "label"), chi.URLParam(r, "id"))
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such ready photo in the strip"})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
	default:
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(b)
	}
}

// handleControl presses one control: form field action, and its
// arguments. A page with JavaScript posts it with fetch and reads JSON; a
// page without gets a redirect back to itself with the outcome.
func (v *Server) handleControl(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		v.answer(w, r, &ControlError{Status: http.StatusBadRequest, Msg: "bad form: " + err.Error()}, "")
		return
	}
	if !v.presenter(r) {
		v.answer(w, r, &ControlError{Status: http.StatusForbidden, Msg: "only the presenter may press the controls (open /?token=TOKEN)"}, "")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("key")), []byte(v.key)) != 1 {
		v.answer(w, r, &ControlError{Status: http.StatusForbidden, Msg: "missing or stale control key: reload the page"}, "")
		return
	}
	// Controls outlive the request: a presenter who reloads mid-restart
	// does not cancel it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 3*time.Minute)
	defer cancel()
	action := r.PostFormValue("action")
	var err error
	switch action {
	case "start", "apply":
		rate, perr := strconv.ParseFloat(r.PostFormValue("rate"), 64)
		if perr != nil || math.IsNaN(rate) {
			err = &ControlError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("rate %q is not a number", r.PostFormValue("rate"))}
			break
		}
		err = v.s.StartLoad(r.PostFormValue("shape"), rate)
	case "stop":
		err = v.s.StopLoad()
	case "vision":
		err = v.s.SetVision(ctx, r.PostFormValue("state"))
	case "kill":
		err = v.s.KillReplica(r.PostFormValue("function"))
	case "restart":
		err = v.s.Restart(ctx, r.PostFormValue("server"))
	case "reset":
		err = v.s.Reset(ctx)
	case "scene":
		err = v.s.PlayScene(r.PostFormValue("scene"), v.speed)
	case "stop-scene":
		err = v.s.StopScene()
	default:
		err = &ControlError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("unknown action %q", action)}
	}
	v.answer(w, r, err, action)
}

// answer tells the page how a control went: JSON for fetch, else a
// redirect to the page with the message.
func (v *Server) answer(w http.ResponseWriter, r *http.Request, err error, action string) {
	status, body := http.StatusOK, map[string]string{"ok": action + " done"}
	if err != nil {
		status, body = http.StatusInternalServerError, map[string]string{"error": err.Error()}
		var ce *ControlError
		if errors.As(err, &ce) {
			status = ce.Status
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, status, body)
		return
	}
	msg := body["ok"]
	if err != nil {
		msg = body["error"]
	}
	http.Redirect(w, r, "/?"+url.Values{"msg": {msg}}.Encode(), http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
