package tus

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
)

// Protocol constants of tus 1.0.
const (
	tusVersion   = "1.0.0"
	offsetType   = "application/offset+octet-stream"
	filesPath    = "/files/"
	receiptsPath = "/receipts/"
	// DefaultChunkSize suits a link of a few hundred kbit/s to a few Mbit/s:
	// a chunk a few seconds long, and tusd keeps even a cut-off part of one.
	DefaultChunkSize = 256 << 10
	// DefaultWholeCreate is the largest envelope sent inside its creation
	// request: about a second at 256 kbit/s, so that a cut that makes it
	// start over costs little.
	DefaultWholeCreate = 32 << 10
	maxErrorBody       = 4096
)

// PermanentError is an answer that will not change by asking again.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

func permanent(err error) error { return &PermanentError{Err: err} }

// RefusedError is the hub refusing to create an upload for this envelope
// (its length or metadata): as final as a rejected receipt, for this
// envelope only.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "tus: hub refused the upload: " + e.Reason }

// Client talks tus to one hub.
type Client struct {
	// Hub is the hub's base URL, https://host:port.
	Hub string
	// HTTP must authenticate both ends; NewHTTPClient makes one.
	HTTP *http.Client
	// DeviceID goes into every upload's metadata.
	DeviceID string
	// ChunkSize is the PATCH size; 0 means DefaultChunkSize.
	ChunkSize int
	// RateBits caps the upload rate in bits per second; 0 means no cap.
	RateBits int64
	// WholeCreate is the largest envelope whose bytes go in its creation
	// request (tus creation-with-upload), one round trip and one request's
	// headers fewer than creation and then PATCH; 0 means DefaultWholeCreate,
	// a negative value never. It is capped at ChunkSize.
	WholeCreate int
	Logger      *slog.Logger

	limOnce sync.Once
	lim     *limiter // shared by concurrent sends, so RateBits caps them together
	// noWhole holds the envelope ids (hex) whose whole creation failed once:
	// they are created empty and resumable from then on.
	noWhole sync.Map
}

// NewHTTPClient makes the device's HTTPS client: TLS 1.3, the hub's
// certificate accepted only if its SPKI SHA-256 is pin (no CA, no names:
// the pin is the trust), and cert presented as the client certificate.
func NewHTTPClient(pin string, cert tls.Certificate) (*http.Client, error) {
	p, err := uplink.CheckPin(pin)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// Verification is VerifyConnection's pin check, not the CA system.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tus: hub sent no certificate")
			}
			if got := uplink.SPKIPin(cs.PeerCertificates[0]); got != p {
				return &pinError{got: got, want: p}
			}
			return nil
		},
	}
	// HTTP/2 where the hub offers it: every request of every envelope in
	// flight shares one connection (one TLS handshake), and HPACK sends the
	// headers that repeat (Tus-Resumable, Content-Type, the host, the user
	// agent) as an index of a byte or two instead of their text, which over
	// HTTP/1.1 was most of the ~600 bytes each envelope cost beyond its own
	// on a slow link. A hub speaking only HTTP/1.1 still gets HTTP/1.1.
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	tr := &http.Transport{
		TLSClientConfig:       tc,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute, // the last PATCH waits for the hub to restore the image
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   2,
		Protocols:             &protos,
		// One connection carries every upload, so a dead one must be noticed:
		// a ping after 30 s without a frame, the connection dropped when its
		// answer takes 15 s (over HTTP/1.1 the keepalive and timeouts above
		// do this per request).
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}
	return &http.Client{Transport: tr}, nil
}

type pinError struct{ got, want string }

func (e *pinError) Error() string {
	return fmt.Sprintf("tus: hub certificate pin is %s, configured %s", e.got, e.want)
}

// Send makes one attempt to get one entry's envelope to the hub and returns
// the hub's receipt. moved reports whether any body bytes were accepted, so
// a caller can tell a slow link from a dead one.
func (c *Client) Send(ctx context.Context, o *outbox.Outbox, e outbox.Entry) (rc *uplink.Receipt, moved bool, err error) {
	env, err := o.Read(e)
	if err != nil {
		if errors.Is(err, outbox.ErrCorrupt) {
			return nil, false, permanent(err)
		}
		return nil, false, err
	}
	loc := ""
	if e.UploadURL != "" {
		loc, err = c.resolve(e.UploadURL)
		if err != nil {
			loc = ""
		}
	}
	var off int64 = -1
	if loc != "" {
		var size int64
		off, size, err = c.head(ctx, loc)
		switch {
		case errors.Is(err, errGone):
			rc, err := c.receipt(ctx, loc, e)
			if err == nil || !errors.Is(err, errGone) {
				return rc, false, err
			}
			loc = "" // the hub lost the upload without deciding: start again
		case err != nil:
			return nil, false, err
		case size != int64(len(env)):
			c.log().Warn("tus: upload has another length than the envelope; starting a new one", "url", loc, "length", size, "envelope", len(env))
			loc = ""
		}
	}
	start := off
	if loc == "" && c.whole(e, len(env)) {
		var hdr string
		loc, off, hdr, err = c.createWhole(ctx, e, env)
		if err != nil {
			// Sent again, it is created empty first and resumable.
			c.noWhole.Store(e.IDHex(), true)
			return nil, false, err
		}
		if err := o.SetUploadURL(ctx, e, loc); err != nil {
			return nil, true, err
		}
		if off == int64(len(env)) && hdr != "" {
			return finalReceipt(hdr, e, loc)
		}
		start = 0
	}
	if loc == "" {
		if loc, err = c.create(ctx, e, int64(len(env))); err != nil {
			return nil, false, err
		}
		// Durable before any body is sent: a restart resumes this upload.
		if err := o.SetUploadURL(ctx, e, loc); err != nil {
			return nil, false, err
		}
		off, start = 0, 0
	}
	for off < int64(len(env)) {
		var hdr string
		off, hdr, err = c.patch(ctx, loc, env, off)
		if err != nil {
			return nil, off > start, err
		}
		if off == int64(len(env)) && hdr != "" {
			return finalReceipt(hdr, e, loc)
		}
	}
	rc, err = c.receipt(ctx, loc, e)
	return rc, off > start, err
}

// finalReceipt reads the receipt the answer completing an upload carries.
func finalReceipt(hdr string, e outbox.Entry, loc string) (*uplink.Receipt, bool, error) {
	rc, err := uplink.ParseReceiptHeader(hdr)
	if err != nil {
		return nil, true, err
	}
	return rc, true, checkReceipt(rc, e, loc)
}

// whole reports whether an envelope goes inside its creation request.
func (c *Client) whole(e outbox.Entry, n int) bool {
	limit := c.WholeCreate
	if limit == 0 {
		limit = DefaultWholeCreate
	}
	// Never more than one chunk: the chunk is what the link was sized for,
	// and what a cut may cost.
	if chunk := c.ChunkSize; chunk > 0 && chunk < limit {
		limit = chunk
	}
	if n > limit {
		return false
	}
	_, failed := c.noWhole.Load(e.IDHex())
	return !failed
}

func (c *Client) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// resolve puts a saved upload URL's path under the configured hub, so an
// upload survives the hub being reached at another address.
func (c *Client) resolve(saved string) (string, error) {
	u, err := url.Parse(saved)
	if err != nil {
		return "", err
	}
	base, err := url.Parse(c.Hub)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(u.Path, filesPath) || len(u.Path) == len(filesPath) {
		return "", fmt.Errorf("tus: saved upload URL %q is not under %s", saved, filesPath)
	}
	base.Path, base.RawQuery, base.Fragment = u.Path, "", ""
	return base.String(), nil
}

var errGone = errors.New("tus: upload not on the hub")

func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("tus: %s %s: %w", method, u, err)
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	return req, nil
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		err = fmt.Errorf("tus: %s %s: %w", req.Method, req.URL, err)
		var pe *pinError
		if errors.As(err, &pe) || isBadCertificate(err) {
			return nil, permanent(err)
		}
		if refused := c.refusedByHub(req); refused != nil {
			return nil, permanent(fmt.Errorf("%w (after: %v)", refused, err))
		}
		return nil, err
	}
	return resp, nil
}

// refusedByHub tells, after a request failed on a broken connection,
// whether the hub refuses this device's certificate. In TLS 1.3 the client's
// handshake ends before the server has checked the client's certificate, so
// the hub's refusal (an alert, then a close) can reach the request as a
// broken pipe or a reset instead; a new handshake followed by a read gets
// the alert itself. Only a failed request pays for it: a second at most
// when the hub accepts the device (it then waits for the request).
func (c *Client) refusedByHub(req *http.Request) error {
	tr, ok := c.HTTP.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil || req.URL.Scheme != "https" || req.Context().Err() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
	defer cancel()
	d := tls.Dialer{Config: tr.TLSClientConfig.Clone()}
	d.Config.NextProtos = nil
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "443")
	}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		if isBadCertificate(err) {
			return fmt.Errorf("tus: the hub refuses this device's certificate: %w", err)
		}
		return nil
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil && isBadCertificate(err) {
		return fmt.Errorf("tus: the hub refuses this device's certificate: %w", err)
	}
	return nil
}

// isBadCertificate tells whether the hub refused our client certificate.
func isBadCertificate(err error) bool {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return ae == 42 || ae == 43 || ae == 46 || ae == 48 // bad, unsupported, unknown certificate; unknown CA
	}
	var ue x509.UnknownAuthorityError
	return errors.As(err, &ue) || strings.Contains(err.Error(), "remote error: tls: bad certificate")
}

func errorBody(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return strings.TrimSpace(string(b))
}

// statusError turns an unexpected answer into an error, permanent for the
// 4xx answers a retry cannot change.
func statusError(req *http.Request, resp *http.Response) error {
	err := fmt.Errorf("tus: %s %s: %s: %s", req.Method, req.URL, resp.Status, errorBody(resp))
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge,
		http.StatusPreconditionFailed, http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType:
		return permanent(err)
	}
	return err
}

func (c *Client) create(ctx context.Context, e outbox.Entry, size int64) (string, error) {
	req, err := c.createRequest(ctx, e, size, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return c.created(req, resp)
}

// createWhole creates the upload with the whole envelope as its body (tus
// creation-with-upload) and returns its URL, the hub's offset and the
// receipt header of the answer.
func (c *Client) createWhole(ctx context.Context, e outbox.Entry, env []byte) (loc string, off int64, hdr string, err error) {
	req, err := c.createRequest(ctx, e, int64(len(env)), c.body(ctx, env))
	if err != nil {
		return "", 0, "", err
	}
	req.ContentLength = int64(len(env))
	req.Header.Set("Content-Type", offsetType)
	resp, err := c.do(req)
	if err != nil {
		return "", 0, "", err
	}
	defer resp.Body.Close()
	if loc, err = c.created(req, resp); err != nil {
		return "", 0, "", err
	}
	off, err = parseLength(resp.Header.Get("Upload-Offset"))
	if err != nil || off > int64(len(env)) {
		return "", 0, "", fmt.Errorf("tus: POST %s: Upload-Offset %q of a %d-byte upload", req.URL, resp.Header.Get("Upload-Offset"), len(env))
	}
	return loc, off, resp.Header.Get(uplink.ReceiptHeader), nil
}

func (c *Client) createRequest(ctx context.Context, e outbox.Entry, size int64, body io.Reader) (*http.Request, error) {
	req, err := c.newRequest(ctx, http.MethodPost, strings.TrimRight(c.Hub, "/")+filesPath, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", Metadata(e.IDHex(), c.DeviceID))
	return req, nil
}

// created checks the answer to a creation and returns the upload's URL.
func (c *Client) created(req *http.Request, resp *http.Response) (string, error) {
	switch resp.StatusCode {
	case http.StatusCreated:
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "", &RefusedError{Reason: fmt.Sprintf("%s: %s", resp.Status, errorBody(resp))}
	default:
		return "", statusError(req, resp)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("tus: POST %s: 201 without a Location", req.URL)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("tus: POST %s: Location %q: %w", req.URL, loc, err)
	}
	return c.resolve(req.URL.ResolveReference(ref).String())
}

// body is a request body of b, at most RateBits per second.
func (c *Client) body(ctx context.Context, b []byte) io.Reader {
	var r io.Reader = bytes.NewReader(b)
	if c.RateBits > 0 {
		c.limOnce.Do(func() { c.lim = newLimiter(c.RateBits) })
		r = c.lim.reader(ctx, r)
	}
	return r
}

// Metadata is the Upload-Metadata header for an envelope: each value base64
// as tus 1.0 wants, keys in a fixed order.
func Metadata(envelopeID, deviceID string) string {
	enc := base64.StdEncoding.EncodeToString
	return "envelope_id " + enc([]byte(envelopeID)) + ",device_id " + enc([]byte(deviceID))
}

func (c *Client) head(ctx context.Context, loc string) (off, size int64, err error) {
	req, err := c.newRequest(ctx, http.MethodHead, loc, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
	case http.StatusNotFound, http.StatusGone:
		return 0, 0, errGone
	default:
		return 0, 0, statusError(req, resp)
	}
	off, err = parseLength(resp.Header.Get("Upload-Offset"))
	if err != nil {
		return 0, 0, fmt.Errorf("tus: HEAD %s: Upload-Offset: %w", loc, err)
	}
	size, err = parseLength(resp.Header.Get("Upload-Length"))
	if err != nil {
		return 0, 0, fmt.Errorf("tus: HEAD %s: Upload-Length: %w", loc, err)
	}
	if off > size {
		return 0, 0, fmt.Errorf("tus: HEAD %s: offset %d past length %d", loc, off, size)
	}
	return off, size, nil
}

// parseLength reads a non-negative decimal header value.
func parseLength(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("%q is not a length", s)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a length", s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// patch sends one chunk from off and returns the hub's new offset and the
// receipt header of a final answer.
func (c *Client) patch(ctx context.Context, loc string, env []byte, off int64) (int64, string, error) {
	n := int64(c.ChunkSize)
	if n <= 0 {
		n = DefaultChunkSize
	}
	end := min(off+n, int64(len(env)))
	req, err := c.newRequest(ctx, http.MethodPatch, loc, c.body(ctx, env[off:end]))
	if err != nil {
		return off, "", err
	}
	req.ContentLength = end - off
	req.Header.Set("Content-Type", offsetType)
	req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
	resp, err := c.do(req)
	if err != nil {
		return off, "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
	case http.StatusConflict:
		// Our offset is not the hub's (a cut PATCH it kept part of): ask again.
		o, _, err := c.head(ctx, loc)
		if err != nil {
			return off, "", err
		}
		return o, "", nil
	case http.StatusNotFound, http.StatusGone:
		return off, "", errGone
	default:
		return off, "", statusError(req, resp)
	}
	got, err := parseLength(resp.Header.Get("Upload-Offset"))
	if err != nil {
		return off, "", fmt.Errorf("tus: PATCH %s: Upload-Offset: %w", loc, err)
	}
	if got != end {
		return off, "", fmt.Errorf("tus: PATCH %s: hub is at offset %d after a chunk to %d", loc, got, end)
	}
	return got, resp.Header.Get(uplink.ReceiptHeader), nil
}

// receipt asks the hub for the receipt of a finished upload.
func (c *Client) receipt(ctx context.Context, loc string, e outbox.Entry) (*uplink.Receipt, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("tus: upload URL %q: %w", loc, err)
	}
	id := strings.TrimPrefix(u.Path, filesPath)
	u.Path = receiptsPath + id
	req, err := c.newRequest(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, errGone
	default:
		return nil, statusError(req, resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, uplink.MaxReceipt+1))
	if err != nil {
		return nil, fmt.Errorf("tus: GET %s: %w", u, err)
	}
	rc, err := uplink.ParseReceipt(b)
	if err != nil {
		return nil, fmt.Errorf("tus: GET %s: %w", u, err)
	}
	return rc, checkReceipt(rc, e, loc)
}

// checkReceipt makes sure a receipt is about this envelope and upload.
func checkReceipt(rc *uplink.Receipt, e outbox.Entry, loc string) error {
	if rc.EnvelopeID != e.IDHex() {
		return fmt.Errorf("tus: receipt for envelope %s, sent %s", rc.EnvelopeID, e.IDHex())
	}
	if !strings.HasSuffix(loc, "/"+rc.UploadID) {
		return fmt.Errorf("tus: receipt for upload %s, sent to %s", rc.UploadID, loc)
	}
	return nil
}
