package outbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"edge/internal/uplink"
	"edge/internal/uplink/uplinktest"
)

func sealN(t *testing.T, n, size int) [][]byte {
	t.Helper()
	hub := uplinktest.HubKey(t, "a").Public()
	dev := uplinktest.DeviceKey(t, "a")
	var out [][]byte
	for range n {
		out = append(out, uplinktest.Seal(t, hub, dev, size, nil))
	}
	return out
}

// clock hands out strictly increasing times, so entry order is enqueue order.
func clock() func() time.Time {
	t := time.Unix(1_800_000_000, 0)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

func TestOldestFirstAndAck(t *testing.T) {
	ctx := context.Background()
	o, err := Open(t.TempDir(), Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	envs := sealN(t, 3, 100)
	for _, e := range envs {
		if _, err := o.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	es, err := o.Entries()
	if err != nil || len(es) != 3 {
		t.Fatalf("entries %v, %v", es, err)
	}
	for i, e := range es {
		h, _ := uplink.PeekHeader(envs[i])
		if e.ID != h.ID {
			t.Fatalf("entry %d is %s, want the %d-th enqueued", i, e.IDHex(), i)
		}
		b, err := o.Read(e)
		if err != nil || string(b) != string(envs[i]) {
			t.Fatalf("read entry %d: %v", i, err)
		}
	}
	if err := o.Ack(ctx, es[0]); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack(ctx, es[0]); err != nil {
		t.Fatalf("second ack of the same entry: %v", err)
	}
	es2, _ := o.Entries()
	if len(es2) != 2 || es2[0].ID != es[1].ID {
		t.Fatalf("after ack: %v", es2)
	}
}

func TestEnqueueSameIDOnce(t *testing.T) {
	ctx := context.Background()
	o, _ := Open(t.TempDir(), Options{})
	defer o.Close()
	env := sealN(t, 1, 10)[0]
	a, err := o.Enqueue(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Enqueue(ctx, env)
	if err != nil || a.Name != b.Name {
		t.Fatalf("re-enqueue gave %v, %v; want the same entry %s", b, err, a.Name)
	}
	if es, _ := o.Entries(); len(es) != 1 {
		t.Fatalf("%d entries after enqueuing one envelope twice", len(es))
	}
}

func TestRefusesNonEnvelope(t *testing.T) {
	o, _ := Open(t.TempDir(), Options{})
	defer o.Close()
	env := sealN(t, 1, 10)[0]
	if _, err := o.Enqueue(context.Background(), env[:len(env)-1]); !errors.Is(err, uplink.ErrMalformed) {
		t.Fatalf("truncated envelope: %v, want ErrMalformed", err)
	}
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"count", Options{MaxCount: 2}},
		{"bytes", Options{MaxBytes: 2*int64(len(sealN(t, 1, 500)[0])) + 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := Open(t.TempDir(), tc.opt)
			defer o.Close()
			envs := sealN(t, 3, 500)
			for _, e := range envs[:2] {
				if _, err := o.Enqueue(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			_, err := o.Enqueue(ctx, envs[2])
			var fe *FullError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFull) {
				t.Fatalf("third enqueue: %v, want a *FullError", err)
			}
			s, _ := o.Stats()
			if !s.Full || s.Depth != 2 || !strings.Contains(s.LastError, "full") {
				t.Fatalf("stats after refusal: %+v", s)
			}
			// Another process on the same outbox (the status page) sees the alarm.
			other, err := Open(o.Dir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s, _ := other.Stats(); !s.Full || s.FullSince.IsZero() {
				t.Fatalf("another handle's stats: %+v", s)
			}
			other.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(NewCollector(o))
			if n, err := testutil.GatherAndCount(reg, "edge_outbox_full"); err != nil || n != 1 {
				t.Fatalf("metric edge_outbox_full: %d, %v", n, err)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP edge_outbox_full 1 while the quota refuses new envelopes.\n# TYPE edge_outbox_full gauge\nedge_outbox_full 1\n"), "edge_outbox_full"); err != nil {
				t.Fatal(err)
			}
			// Nothing queued was dropped, and room frees the alarm.
			es, _ := o.Entries()
			for i, e := range es {
				if b, err := o.Read(e); err != nil || string(b) != string(envs[i]) {
					t.Fatalf("entry %d after refusal: %v", i, err)
				}
			}
			if err := o.Ack(ctx, es[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Enqueue(ctx, envs[2]); err != nil {
				t.Fatalf("enqueue after ack: %v", err)
			}
			if s, _ := o.Stats(); s.Full {
				t.Fatal("alarm still raised after a successful enqueue")
			}
		})
	}
}

func TestUploadURLSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, _ := Open(dir, Options{})
	e, err := o.Enqueue(ctx, sealN(t, 1, 10)[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetUploadURL(ctx, e, "https://hub/files/x"); err != nil {
		t.Fatal(err)
	}
	if err := o.SetUploadURL(ctx, e, "bad\nurl"); err == nil {
		t.Fatal("a URL with a newline was accepted")
	}
	o.Close()
	o2, _ := Open(dir, Options{})
	defer o2.Close()
	es, _ := o2.Entries()
	if len(es) != 1 || es[0].UploadURL != "https://hub/files/x" {
		t.Fatalf("after reopen: %+v", es)
	}
}

func TestRejectKeepsReason(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, _ := Open(dir, Options{})
	defer o.Close()
	e, _ := o.Enqueue(ctx, sealN(t, 1, 10)[0])
	if err := o.Reject(ctx, e, "signature invalid\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if es, _ := o.Entries(); len(es) != 0 {
		t.Fatalf("rejected entry still queued: %v", es)
	}
	r, err := os.ReadFile(filepath.Join(dir, rejectedDir, e.Name+reasonExt))
	if err != nil || string(r) != "signature invalid second line\n" {
		t.Fatalf("reason file: %q, %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(dir, rejectedDir, e.Name+envExt)); err != nil {
		t.Fatal(err)
	}
}

func TestLeftoversAreNeverEntries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, _ := Open(dir, Options{})
	defer o.Close()
	env := sealN(t, 1, 10)[0]
	q := filepath.Join(dir, queueDir)
	// What a kill in the middle of a write leaves: a temporary file with half
	// an envelope, and an .upload file whose envelope was already acked.
	half := filepath.Join(q, ".00000000000000000001-"+strings.Repeat("ab", 16)+".edge.tmp123")
	orphan := filepath.Join(q, "00000000000000000002-"+strings.Repeat("cd", 16)+".upload")
	os.WriteFile(half, env[:len(env)/2], 0o600)
	os.WriteFile(orphan, []byte("https://x\n"), 0o600)
	if es, _ := o.Entries(); len(es) != 0 {
		t.Fatalf("leftovers listed as entries: %v", es)
	}
	if _, err := o.Enqueue(ctx, env); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{half, orphan} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not swept: %v", p, err)
		}
	}
}

func TestReadDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, _ := Open(dir, Options{})
	defer o.Close()
	e, _ := o.Enqueue(ctx, sealN(t, 1, 10)[0])
	p := filepath.Join(dir, queueDir, e.Name+envExt)
	os.WriteFile(p, []byte("EDGE junk"), 0o600)
	if _, err := o.Read(e); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read of a damaged file: %v, want ErrCorrupt", err)
	}
}
