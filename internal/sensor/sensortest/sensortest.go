// Package sensortest has fakes for the sensor driver's Port: Playback
// replays exchanges recorded from a module (or the simulator) and fails on
// any byte the driver writes that the recording does not have, and on Close
// if an exchange never happened; Record captures the exchanges of a live
// port in the same form.
//
// A recording is JSON: {"name": …, "ops": [{"w": base64, "r": base64}, …]},
// each op the bytes the driver wrote and then the bytes it read before its
// next write.
package sensortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// IO is one exchange: what the driver wrote, then what the module answered.
type IO struct {
	W []byte `json:"w"`
	R []byte `json:"r"`
}

// Recording is a named list of exchanges, with whatever the generator wants
// the test to check stored beside them.
type Recording struct {
	Name string            `json:"name"`
	Ops  []IO              `json:"ops"`
	Want map[string]string `json:"want,omitempty"`
}

// maxRecording bounds a recording file: a few image uploads.
const maxRecording = 16 << 20

// Load reads a recording file.
func Load(path string) (*Recording, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sensortest: %w", err)
	}
	if st.Size() > maxRecording {
		return nil, fmt.Errorf("sensortest: %s is %d bytes, more than %d", path, st.Size(), maxRecording)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sensortest: %w", err)
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("sensortest: %s: %w", path, err)
	}
	return &r, nil
}

// Save writes the recording as indented JSON.
func (r *Recording) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return fmt.Errorf("sensortest: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Playback is a Port that replays Ops in order.
type Playback struct {
	mu      sync.Mutex
	Ops     []IO
	i       int    // next op to match
	written []byte // bytes of Ops[i].W seen so far
	pending []byte // answer not yet read
	timeout time.Duration
	err     error
}

// NewPlayback replays ops.
func NewPlayback(ops []IO) *Playback { return &Playback{Ops: ops} }

func (p *Playback) fail(err error) error {
	if p.err == nil {
		p.err = err
	}
	return err
}

// Write checks b against the recording.
func (p *Playback) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, p.err
	}
	if len(p.pending) > 0 && len(p.written) == 0 {
		return 0, p.fail(fmt.Errorf("sensortest: op %d: write of % x while %d answer bytes of op %d were never read", p.i, b, len(p.pending), p.i-1))
	}
	if p.i >= len(p.Ops) {
		return 0, p.fail(fmt.Errorf("sensortest: unexpected write of % x after the %d recorded ops", b, len(p.Ops)))
	}
	want := p.Ops[p.i].W
	got := append(p.written, b...)
	if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) {
		return 0, p.fail(fmt.Errorf("sensortest: op %d: wrote % x, recording has % x", p.i, got, want))
	}
	p.written = got
	if len(got) == len(want) {
		p.pending = p.Ops[p.i].R
		p.written = nil
		p.i++
	}
	return len(b), nil
}

// Read returns recorded answer bytes; with none left it waits out the read
// timeout and returns (0, nil), as a serial port does.
func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return 0, p.err
	}
	if len(p.pending) == 0 {
		t := p.timeout
		p.mu.Unlock()
		if t > 0 {
			time.Sleep(t)
		}
		return 0, nil
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	p.mu.Unlock()
	return n, nil
}

// SetReadTimeout sets how long a Read with nothing to return waits.
func (p *Playback) SetReadTimeout(t time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = max(t, 0)
	return nil
}

// Close fails if an error happened or an op was left unplayed.
func (p *Playback) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.i < len(p.Ops) || len(p.written) > 0 {
		return fmt.Errorf("sensortest: %d of %d recorded exchanges never happened", len(p.Ops)-p.i, len(p.Ops))
	}
	if len(p.pending) > 0 {
		return fmt.Errorf("sensortest: %d answer bytes of the last exchange never read", len(p.pending))
	}
	return nil
}

// Port is what Record wraps; sensor.Port has the same methods.
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	SetReadTimeout(t time.Duration) error
}

// Record passes calls through to a live port and keeps the exchanges.
type Record struct {
	Port Port
	mu   sync.Mutex
	Ops  []IO
}

func (r *Record) Write(b []byte) (int, error) {
	n, err := r.Port.Write(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := len(r.Ops); k == 0 || len(r.Ops[k-1].R) > 0 {
		r.Ops = append(r.Ops, IO{})
	}
	op := &r.Ops[len(r.Ops)-1]
	op.W = append(op.W, b[:n]...)
	return n, err
}

func (r *Record) Read(b []byte) (int, error) {
	n, err := r.Port.Read(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		if len(r.Ops) == 0 {
			r.Ops = append(r.Ops, IO{})
		}
		op := &r.Ops[len(r.Ops)-1]
		op.R = append(op.R, b[:n]...)
	}
	return n, err
}

// SetReadTimeout passes through.
func (r *Record) SetReadTimeout(t time.Duration) error { return r.Port.SetReadTimeout(t) }
