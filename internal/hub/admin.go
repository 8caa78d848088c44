package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// adminSocket is the hub's local administration endpoint, in the store
// (mode 0700): the running hub holds the index exclusively, so a tool on the
// same machine reads the audit through it rather than from the file.
const adminSocket = "admin.sock"

// listenAdmin opens the admin socket. A socket file left by a hub that
// died is removed: this hub holds the index, so no other hub serves it.
func (h *Hub) listenAdmin() (net.Listener, string, error) {
	p := filepath.Join(h.cfg.Path(h.cfg.Store), adminSocket)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("hub: admin socket: %w", err)
	}
	l, err := net.Listen("unix", p)
	if err != nil {
		return nil, "", fmt.Errorf("hub: admin socket: %w", err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		l.Close()
		return nil, "", fmt.Errorf("hub: admin socket: %w", err)
	}
	return l, p, nil
}

// adminHandler serves GET /audit: every audit record, as ReadAudit returns them.
func (h *Hub) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /audit", func(w http.ResponseWriter, _ *http.Request) {
		recs, err := h.idx.audit()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if recs == nil {
			recs = []Record{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(recs)
	})
	return mux
}

// errNoHub is a store no running hub serves.
var errNoHub = errors.New("no running hub")

// auditFromHub asks the hub serving the store at st for its audit; it
// returns errNoHub when none answers there.
func auditFromHub(ctx context.Context, st string) ([]Record, error) {
	p := filepath.Join(st, adminSocket)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", p)
		},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://hub/audit", nil)
	if err != nil {
		return nil, fmt.Errorf("hub: audit: %w", err)
	}
	resp, err := hc.Do(req)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil, errNoHub
	}
	if err != nil {
		return nil, fmt.Errorf("hub: audit: admin socket %s: %w", p, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("hub: audit: the running hub answered %s", resp.Status)
	}
	var recs []Record
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		return nil, fmt.Errorf("hub: audit: the running hub's answer: %w", err)
	}
	return recs, nil
}
