package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	xslog "golang.org/x/exp/slog"

	"edge/internal/protect"
	"edge/internal/uplink"
)

// ClinicianVerifier matches the clinician an image was marked for against
// the hub's registry. The hub only records the score and refuses an image
// that does not match; how templates are kept is the verifier's business.
type ClinicianVerifier interface {
	Verify(clinicianID string, r *protect.Recovered) (score float64, ok bool, err error)
}

// Forwarder hands a restored DICOM file to the PACS and returns the PACS's
// name for it. A nil error means the PACS holds it; sending the same file
// again must not make a second copy (Orthanc and C-STORE both key instances
// by SOP Instance UID).
type Forwarder interface {
	Forward(ctx context.Context, dicom []byte) (pacsID string, err error)
}

// Options are what the caller wires besides the config.
type Options struct {
	Logger *slog.Logger
	// OpenClinicians opens the config's clinician_store; required when it is set.
	OpenClinicians func(path string) (ClinicianVerifier, error)
	// Forwarder overrides the one made from the config's pacs section.
	Forwarder Forwarder
	Now       func() time.Time
}

// Store folders under the config's store; doc.go describes them.
const (
	uploadsDir  = "uploads"
	imagesDir   = "images"
	rejectedDir = "rejected"
	indexFile   = "index.db"
	filesPath   = "/files/"
	receiptPath = "/receipts/"
)

// Hub receives envelopes over tus, restores them and forwards DICOM to the PACS.
type Hub struct {
	cfg    *Config
	log    *slog.Logger
	now    func() time.Time
	opener *protect.Opener
	trust  *trustDir
	clin   ClinicianVerifier
	fwd    Forwarder
	idx    *index
	store  filestore.FileStore
	locker *memorylocker.MemoryLocker
	tus    *handler.UnroutedHandler
	cert   tls.Certificate
	reg    *prometheus.Registry
	m      metrics
	kick   chan struct{} // wakes the forwarder

	mu    sync.Mutex // one envelope processed at a time: dedupe and file names rely on it
	fwdMu sync.Mutex // one forwarding pass at a time
}

// New opens the hub described by cfg: keys, trusted devices, store and index.
func New(cfg *Config, opt Options) (*Hub, error) {
	h := &Hub{cfg: cfg, log: opt.Logger, now: opt.Now, kick: make(chan struct{}, 1)}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	hubKey, err := uplink.LoadHubPrivateKey(cfg.Path(cfg.HubKey))
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.trust, err = newTrustDir(cfg.Path(cfg.TrustedDir)); err != nil {
		return nil, err
	}
	h.trust.log = h.log.Warn
	models, err := cfg.Models()
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.opener = &protect.Opener{Hub: hubKey, Trust: h.trust, Limits: cfg.UplinkLimits(), Models: models, AllowUnverified: cfg.AllowUnverifiedModels}
	if h.cert, err = loadTLS(cfg.Path(cfg.TLSCert), cfg.Path(cfg.TLSKey)); err != nil {
		return nil, err
	}
	if p := cfg.ClinicianStore; p != "" {
		if opt.OpenClinicians == nil {
			return nil, fmt.Errorf("hub: clinician_store %q is set but this build has no clinician registry to open it with", p)
		}
		if h.clin, err = opt.OpenClinicians(cfg.Path(p)); err != nil {
			return nil, fmt.Errorf("hub: clinician store: %w", err)
		}
	}
	h.fwd = opt.Forwarder
	switch {
	case h.fwd != nil:
	case cfg.PACS.OrthancURL != "":
		h.fwd = newOrthanc(cfg.PACS)
	case cfg.PACS.DICOMAddress != "":
		h.fwd = newDICOM(cfg.PACS, h.log)
	}
	st := cfg.Path(cfg.Store)
	for _, d := range []string{st, filepath.Join(st, uploadsDir), filepath.Join(st, imagesDir), filepath.Join(st, rejectedDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("hub: store: %w", err)
		}
	}
	h.store = filestore.New(filepath.Join(st, uploadsDir))
	h.store.DirModePerm, h.store.FileModePerm = 0o700, 0o600
	if h.idx, err = openIndex(filepath.Join(st, indexFile)); err != nil {
		return nil, err
	}
	comp := handler.NewStoreComposer()
	comp.UseCore(syncStore{h.store})
	h.locker = memorylocker.New()
	comp.UseLocker(h.locker)
	tusLog := xslog.New(xslog.NewTextHandler(os.Stderr, &xslog.HandlerOptions{Level: xslog.LevelWarn}))
	h.tus, err = handler.NewUnroutedHandler(handler.Config{
		StoreComposer:             comp,
		BasePath:                  filesPath,
		MaxSize:                   int64(cfg.Limits.MaxEnvelopeBytes),
		DisableDownload:           true,
		DisableTermination:        true,
		DisableConcatenation:      true,
		Cors:                      &handler.CorsConfig{Disable: true},
		Logger:                    tusLog,
		PreUploadCreateCallback:   h.preCreate,
		PreFinishResponseCallback: h.preFinish,
		NetworkTimeout:            30 * time.Second,
	})
	if err != nil {
		h.idx.close()
		return nil, fmt.Errorf("hub: tus handler: %w", err)
	}
	h.reg = h.newMetrics()
	return h, nil
}

// Audit returns every audit record, oldest first.
func (h *Hub) Audit() ([]Record, error) { return h.idx.audit() }

// Close closes the index.
func (h *Hub) Close() error { return h.idx.close() }

// TLSConfig is the server side of the device authentication: a client
// certificate is required, and its key must be a trusted device's.
func (h *Hub) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{h.cert},
		// HTTP/2 first: a device's uploads share one connection and their
		// repeated headers compress (see package tus).
		NextProtos: []string{"h2", "http/1.1"},
		// Optional at the handshake so that a monitor without a device key
		// can read /healthz and /metrics; every other path wants one. A
		// certificate that is given must be a trusted device's.
		ClientAuth: tls.RequestClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return nil
			}
			c, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("hub: client certificate: %w", err)
			}
			_, _, err = uplink.PeerDevice(c, h.trust)
			if err != nil {
				h.m.refusedTLS.Inc()
			}
			return err
		},
	}
}

type ctxKey struct{}

// device returns the id of the device a request came from, set by Handler.
func device(ctx context.Context) string {
	s, _ := ctx.Value(ctxKey{}).(string)
	return s
}

// Handler routes the hub's endpoints. Everything but /healthz and /metrics
// needs a trusted client certificate.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.Handle("GET /metrics", h.metricsHandler())
	tus := h.tus.Middleware(http.HandlerFunc(h.routeTus))
	// tusd's handlers take the upload id from a path without the base path.
	mux.Handle(filesPath, h.authenticated(http.StripPrefix(strings.TrimSuffix(filesPath, "/"), tus)))
	mux.Handle("GET "+receiptPath+"{id}", h.authenticated(http.HandlerFunc(h.getReceipt)))
	return mux
}

// authenticated puts the client certificate's device id in the context and
// refuses requests without one, and requests for another device's uploads as
// if they did not exist.
func (h *Hub) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "a device client certificate is required", http.StatusUnauthorized)
			return
		}
		id, _, err := uplink.PeerDevice(r.TLS.PeerCertificates[0], h.trust)
		if err != nil {
			// Trusted at the handshake, since removed from the list.
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, filesPath)
		if rest == r.URL.Path {
			rest = strings.TrimPrefix(r.URL.Path, receiptPath)
		}
		if rest != "" && uploadDevice(rest) != id {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
	})
}

// routeTus offers only what a device needs of tus: creation, HEAD and PATCH.
func (h *Hub) routeTus(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(r.URL.Path, "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		h.tus.PostFile(w, r)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodHead:
		h.tus.HeadFile(w, r)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodPatch:
		h.tus.PatchFile(w, r)
	default:
		w.Header().Set("Allow", "POST, HEAD, PATCH")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// preCreate refuses an upload before any of its body is read unless its
// metadata names the certificate's device and an envelope id, and its length
// is that of a possible envelope.
func (h *Hub) preCreate(ev handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	dev := device(ev.Context)
	if dev == "" {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, handler.NewError("ERR_EDGE_DEVICE", "no device", http.StatusUnauthorized)
	}
	if ev.Upload.SizeIsDeferred || ev.Upload.Size < minEnvelope {
		h.m.refusedCreate.Inc()
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, handler.NewError("ERR_EDGE_LENGTH",
			fmt.Sprintf("Upload-Length %d: an envelope is at least %d bytes and its length is known", ev.Upload.Size, minEnvelope), http.StatusBadRequest)
	}
	m, err := parseUploadMeta(ev.HTTPRequest.Header.Get("Upload-Metadata"), dev)
	if err != nil {
		h.m.refusedCreate.Inc()
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, handler.NewError("ERR_EDGE_METADATA", err.Error(), http.StatusBadRequest)
	}
	id, err := newUploadID(m)
	if err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, err
	}
	return handler.HTTPResponse{}, handler.FileInfoChanges{ID: id}, nil
}

// minEnvelope is the size of the smallest framing Open would look at.
const minEnvelope = 77 + 1 + 48

// preFinish processes a complete upload before its last PATCH is answered,
// so the answer carries the receipt. When processing fails for a reason of
// the hub's own (a full disk), the device gets a 503 and asks again later.
func (h *Hub) preFinish(ev handler.HookEvent) (handler.HTTPResponse, error) {
	// A device on a link that drops every few seconds may be gone before a
	// large image is restored; the work is finished anyway, so that the
	// receipt is waiting when it asks again.
	rc, err := h.process(context.WithoutCancel(ev.Context), ev.Upload)
	if err != nil {
		h.log.Error("hub: processing failed; the device will ask again", "upload", ev.Upload.ID, "err", err)
		return handler.HTTPResponse{}, handler.NewError("ERR_EDGE_PROCESSING", "the hub could not process the upload yet; ask for the receipt later", http.StatusServiceUnavailable)
	}
	v, err := uplink.EncodeReceiptHeader(rc)
	if err != nil {
		return handler.HTTPResponse{}, err
	}
	return handler.HTTPResponse{Header: handler.HTTPHeader{uplink.ReceiptHeader: v}}, nil
}

// getReceipt answers GET /receipts/ID: the receipt of a processed upload,
// processing a complete one first (the hub may have died before it could),
// 409 for an upload still incomplete, 404 for none.
func (h *Hub) getReceipt(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rc, err := h.idx.receipt(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if rc == nil {
		up, err := h.store.GetUpload(r.Context(), id)
		if errors.Is(err, handler.ErrNotFound) {
			http.Error(w, "no such upload", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "upload "+id+": "+err.Error(), http.StatusInternalServerError)
			return
		}
		info, err := up.GetInfo(r.Context())
		if err != nil {
			http.Error(w, "upload "+id+": "+err.Error(), http.StatusInternalServerError)
			return
		}
		if info.Offset < info.Size {
			http.Error(w, fmt.Sprintf("upload %s has %d of %d bytes", id, info.Offset, info.Size), http.StatusConflict)
			return
		}
		if rc, err = h.process(context.WithoutCancel(r.Context()), info); err != nil {
			h.log.Error("hub: processing failed; the device will ask again", "upload", id, "err", err)
			http.Error(w, "the hub could not process the upload yet", http.StatusServiceUnavailable)
			return
		}
	}
	b, err := uplink.MarshalReceipt(rc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (h *Hub) healthz(w http.ResponseWriter, _ *http.Request) {
	c, err := h.idx.counts()
	st := map[string]any{"status": "ok", "stored": c.stored, "forward_pending": c.pending, "forward_refused": c.refused, "trusted_devices": h.trust.count()}
	code := http.StatusOK
	if err != nil {
		st["status"], st["error"] = "index unreadable", err.Error()
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

// Serve serves on l (TLS is added here) until ctx is done, then shuts down
// gracefully. Before accepting, it processes uploads a previous run left
// complete but unprocessed; while serving it forwards to the PACS.
func (h *Hub) Serve(ctx context.Context, l net.Listener) error {
	if err := h.Recover(ctx); err != nil {
		return err
	}
	if h.fwd != nil {
		n, err := h.idx.requeueRefused()
		if err != nil {
			return err
		}
		if n > 0 {
			h.log.Warn("hub: files the PACS refused before are queued for it again", "files", n)
		}
	}
	srv := &http.Server{
		Handler:           h.Handler(),
		TLSConfig:         h.TLSConfig(),
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(&slogWriter{h.log}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.sweepLoop(fctx) }()
	if h.fwd != nil {
		wg.Add(1)
		go func() { defer wg.Done(); h.forwardLoop(fctx) }()
	}
	// Without the admin socket (a store path too long for one) the hub
	// still serves; only edge hub audit must then wait for it to stop.
	if al, sock, err := h.listenAdmin(); err != nil {
		h.log.Warn("hub: no admin socket; edge hub audit needs the hub stopped", "err", err)
	} else {
		asrv := &http.Server{Handler: h.adminHandler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: srv.ErrorLog}
		go asrv.Serve(al)
		defer func() {
			asrv.Close()
			os.Remove(sock)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(l, srv.TLSConfig)) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stop()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// slogWriter sends net/http's own messages (TLS handshake refusals among
// them) to the hub's log.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.log.Warn("hub: http: " + strings.TrimSpace(string(p)))
	return len(p), nil
}

// Recover processes every upload left complete without a receipt and
// removes the files of processed ones, which a crash may have left.
func (h *Hub) Recover(ctx context.Context) error {
	dir := filepath.Join(h.cfg.Path(h.cfg.Store), uploadsDir)
	infos, err := filepath.Glob(filepath.Join(dir, "*.info"))
	if err != nil {
		return fmt.Errorf("hub: recover: %w", err)
	}
	for _, p := range infos {
		id := strings.TrimSuffix(filepath.Base(p), ".info")
		rc, err := h.idx.receipt(id)
		if err != nil {
			return err
		}
		if rc != nil {
			h.removeUpload(id)
			continue
		}
		up, err := h.store.GetUpload(ctx, id)
		if err != nil {
			// A creation killed while writing its .info: the device never
			// got the URL, so nobody can resume it.
			h.log.Warn("hub: removing an upload that cannot be read", "upload", id, "err", err)
			h.removeUpload(id)
			continue
		}
		info, err := up.GetInfo(ctx)
		if err != nil || info.Offset < info.Size {
			continue
		}
		if _, err := h.process(ctx, info); err != nil {
			return fmt.Errorf("hub: recover upload %s: %w", id, err)
		}
	}
	return nil
}

// removeUpload deletes an upload's tus files once its outcome is in the index.
func (h *Hub) removeUpload(id string) {
	dir := filepath.Join(h.cfg.Path(h.cfg.Store), uploadsDir)
	for _, p := range []string{filepath.Join(dir, id), filepath.Join(dir, id+".info")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			h.log.Warn("hub: remove processed upload", "file", p, "err", err)
		}
	}
}

// readEnvelope reads a complete upload, bounded by the configured limit.
func readEnvelope(path string, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("upload of %d bytes, more than the %d allowed", size, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}
