package appliance

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// capture is one image in the status page's list of the last captures.
type capture struct {
	At            time.Time
	Clinician     string
	Source        string
	Envelope      string
	Thumb         []byte // PNG of the marked image; never the print
	Bytes         int
	EnvelopeBytes int
	PSNR          float64
	Held          bool
	N             int // sequence number, the thumbnail's URL
}

// maxCaptures is how many captures the page lists.
const maxCaptures = 6

type statusState struct {
	mu       sync.Mutex
	captures []capture // newest first
	next     int
}

func (s *statusState) addCapture(c capture) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	c.N = s.next
	s.captures = append([]capture{c}, s.captures...)
	if len(s.captures) > maxCaptures {
		s.captures = s.captures[:maxCaptures]
	}
}

func (s *statusState) list() []capture {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]capture(nil), s.captures...)
}

func (s *statusState) thumb(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.captures {
		if c.N == n {
			return c.Thumb
		}
	}
	return nil
}

// view is everything the page and /healthz show.
type view struct {
	Now          time.Time
	Clinician    string
	Since, Until time.Time
	Captures     []capture
	Depth        int
	OutboxBytes  int64
	Oldest       time.Duration
	Full         bool
	LinkUp       bool
	LinkState    string
	LastUpload   time.Time
	Uploads      int
	LastError    string
	Sensor       string
	SensorOK     bool
	SensorSince  time.Time
	Pending      int
	ClockSane    bool
	Alarms       []string
	NeedPassword bool
}

func (a *Appliance) view() view {
	v := view{Now: a.now(), Captures: a.status.list(), Pending: a.pendingCount(), ClockSane: a.clock.sane(), NeedPassword: a.cfg.Status.Password != ""}
	si := a.session.Info()
	v.Clinician, v.Since, v.Until = si.Clinician, si.Since, si.Until
	if st, err := a.out.Stats(); err == nil {
		v.Depth, v.OutboxBytes, v.Oldest, v.Full = st.Depth, st.Bytes, st.OldestAge.Round(time.Second), st.Full
		v.LastError = st.LastError
		last, _, n := a.link.snapshot()
		v.LastUpload, v.Uploads = last, n
		switch {
		case st.LastError != "" && st.LastErrorAt.After(last):
			v.LinkState = "down: " + st.LastError
		case !last.IsZero():
			v.LinkState, v.LinkUp = "up", true
		case !v.ClockSane:
			v.LinkState = "waiting for the clock"
		default:
			v.LinkState, v.LinkUp = "no upload yet", true
		}
	} else {
		v.LinkState = "outbox unreadable: " + err.Error()
	}
	if a.station != nil {
		ss := a.station.Sensor()
		v.SensorOK, v.SensorSince = ss.Connected, ss.Since
		switch {
		case ss.Connected:
			v.Sensor = fmt.Sprintf("connected (%d baud)", ss.Baud)
		case ss.Since.IsZero():
			v.Sensor = "not found yet"
		default:
			// The innermost cause is what a person at the bedside can act on.
			cause := ss.LastError
			if i := strings.LastIndex(cause, ": "); i >= 0 {
				cause = cause[i+2:]
			}
			v.Sensor = "lost since " + ss.Since.Local().Format("15:04:05") + " (" + cause + ")"
		}
	}
	if v.Full {
		v.Alarms = append(v.Alarms, "Outbox full: the modality is told to retry")
	}
	if !v.SensorOK {
		v.Alarms = append(v.Alarms, "Fingerprint sensor not answering")
	}
	if !v.ClockSane {
		v.Alarms = append(v.Alarms, "Clock not set: images are held, uplink waits")
	}
	if !v.LinkUp {
		v.Alarms = append(v.Alarms, "Link to the hub down")
	}
	if v.Pending > 0 {
		v.Alarms = append(v.Alarms, fmt.Sprintf("%d image(s) waiting for a clinician to log in", v.Pending))
	}
	return v
}

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"hm":   func(t time.Time) string { return t.Local().Format("15:04:05") },
	"ago":  func(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() },
	"kib":  func(n int) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) },
	"kibs": func(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) },
	"short": func(s string) string {
		if len(s) > 8 {
			return s[:8]
		}
		return s
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=1024, initial-scale=1">
<title>edge — bedside</title>
<style>
body{margin:0;font:20px/1.3 sans-serif;background:#111;color:#eee;width:1024px;min-height:600px}
header{display:flex;justify-content:space-between;align-items:center;padding:10px 16px;background:#1d3b5a}
header h1{font-size:26px;margin:0}
.who{font-size:24px}
button{font-size:22px;padding:10px 22px;border-radius:8px;border:0;background:#c0392b;color:#fff}
input{font-size:20px;width:9em}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;padding:8px 16px}
.tile{background:#222;border-radius:8px;padding:8px}
.tile b{display:block;font-size:16px;color:#aaa;font-weight:normal}
.ok{color:#6c6}.bad{color:#f66}
#alarms{margin:0 16px;padding:0;list-style:none}
#alarms li{background:#7a1f1f;margin:4px 0;padding:6px 10px;border-radius:6px;font-size:22px}
table{margin:8px 16px;border-collapse:collapse;width:992px;font-size:17px}
td,th{padding:3px 6px;text-align:left;border-bottom:1px solid #333}
img{height:64px;image-rendering:pixelated;background:#000}
</style></head><body>
<header><h1>edge</h1>
{{if .Clinician}}<div class="who" id="session">Logged in: <b id="clinician">{{.Clinician}}</b> until <b id="session-until">{{hm .Until}}</b></div>
<form method="post" action="/logout">{{if .NeedPassword}}<input type="password" name="password" placeholder="password" aria-label="password"> {{end}}<button id="logout" type="submit">Log out</button></form>
{{else}}<div class="who" id="session">Nobody logged in — place a finger on the sensor</div>{{end}}
</header>
<ul id="alarms">{{range .Alarms}}<li class="alarm">{{.}}</li>{{end}}</ul>
<div class="tiles">
<div class="tile"><b>Outbox</b><span id="outbox-depth">{{.Depth}}</span> queued, {{kibs .OutboxBytes}}; oldest <span id="outbox-oldest">{{.Oldest}}</span></div>
<div class="tile"><b>Link</b><span id="link-state" class="{{if .LinkUp}}ok{{else}}bad{{end}}">{{.LinkState}}</span><br>last upload <span id="last-upload">{{if .LastUpload.IsZero}}never{{else}}{{hm .LastUpload}}{{end}}</span> ({{.Uploads}})</div>
<div class="tile"><b>Sensor</b><span id="sensor-state" class="{{if .SensorOK}}ok{{else}}bad{{end}}">{{.Sensor}}</span></div>
<div class="tile"><b>Waiting</b><span id="pending">{{.Pending}}</span> held; clock <span id="clock" class="{{if .ClockSane}}ok{{else}}bad{{end}}">{{if .ClockSane}}set{{else}}not set{{end}}</span></div>
</div>
<table id="captures"><tr><th>Image</th><th>Time</th><th>Clinician</th><th>Source</th><th>Envelope</th><th>Size</th><th>PSNR</th></tr>
{{range .Captures}}<tr class="capture"><td>{{if .Thumb}}<img src="/thumb/{{.N}}.png" alt="marked image {{.N}}">{{end}}</td><td>{{hm .At}}</td><td>{{.Clinician}}{{if .Held}} (held){{end}}</td><td>{{.Source}}</td><td>{{short .Envelope}}</td><td>{{kib .Bytes}} → {{kib .EnvelopeBytes}}</td><td>{{printf "%.1f" .PSNR}} dB</td></tr>
{{else}}<tr><td colspan="7">No image yet</td></tr>{{end}}
</table>
</body></html>
`))

// statusHandler serves the bedside page, its thumbnails, the logout
// button, /healthz and /metrics.
func (a *Appliance) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'")
		if err := page.Execute(w, a.view()); err != nil {
			a.log.Warn("appliance: status page", "err", err)
		}
	})
	mux.HandleFunc("GET /thumb/{n}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("n")
		n, err := strconv.Atoi(trimPNG(name))
		b := a.status.thumb(n)
		if err != nil || b == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if pw := a.cfg.Status.Password; pw != "" {
			r.Body = http.MaxBytesReader(w, r.Body, 4096)
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("password")), []byte(pw)) != 1 {
				http.Error(w, "wrong password", http.StatusForbidden)
				return
			}
		}
		if a.session.Logout("logged out on the status page") {
			a.log.Info("appliance: logged out on the status page")
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		v := a.view()
		status := "ok"
		if len(v.Alarms) > 0 {
			status = "degraded"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"status": status, "alarms": v.Alarms, "logged_in": v.Clinician != "",
			"outbox_depth": v.Depth, "outbox_oldest_seconds": v.Oldest.Seconds(), "outbox_full": v.Full,
			"link": v.LinkState, "sensor_connected": v.SensorOK, "pending": v.Pending, "clock_sane": v.ClockSane,
		})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

func trimPNG(s string) string {
	if len(s) > 4 && s[len(s)-4:] == ".png" {
		return s[:len(s)-4]
	}
	return s
}
