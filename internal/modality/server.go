package modality

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the provider's configuration. The zero value of each limit
// means its default.
type Config struct {
	Addr           string         // listen address for ListenAndServe, e.g. ":11112"
	AETitle        string         // the called AE title the modality must use
	AllowCallingAE []string       // calling AE titles accepted; empty accepts any
	AllowSources   []netip.Prefix // source addresses accepted; empty accepts any
	// MaxAssociations bounds associations at once (default 4); a request
	// past it gets A-ASSOCIATE-RJ "local limit exceeded", and a connection
	// past twice as many (and four) is closed at once.
	MaxAssociations int
	// MaxPDULength is the most this side receives in one P-DATA-TF, told to
	// the requester (default 64 KiB, at least 4 KiB, at most 4 MiB).
	MaxPDULength uint32
	IdleTimeout  time.Duration // longest wait for the next PDU of an association (default 60 s)
	ARTIMTimeout time.Duration // PS3.8's ARTIM: for the A-ASSOCIATE-RQ and for the peer to close (default 30 s)
	// MaxObjectSize bounds the data set of one object (default 2 GiB); a
	// larger one gets A700 and is not stored.
	MaxObjectSize int64
	// SpoolDir holds objects while they arrive. It belongs to one server:
	// whatever it holds when Serve starts is removed.
	SpoolDir string
}

// Defaults and bounds of Config.
const (
	DefaultMaxAssociations = 4
	DefaultMaxPDULength    = 64 << 10
	MinPDULength           = 4 << 10
	MaxPDULimit            = 4 << 20
	DefaultIdleTimeout     = 60 * time.Second
	DefaultARTIMTimeout    = 30 * time.Second
	DefaultMaxObjectSize   = 2 << 30

	// maxAssociateRQ bounds an A-ASSOCIATE-RQ: 128 contexts of one abstract
	// and several transfer syntaxes each stay far below it.
	maxAssociateRQ = 256 << 10
)

func (c Config) withDefaults() (Config, error) {
	if c.AETitle == "" || len(c.AETitle) > 16 {
		return c, fmt.Errorf("modality: AE title %q: want 1 to 16 characters", c.AETitle)
	}
	for _, ae := range c.AllowCallingAE {
		if ae == "" || len(ae) > 16 {
			return c, fmt.Errorf("modality: allowed calling AE title %q: want 1 to 16 characters", ae)
		}
	}
	if c.SpoolDir == "" {
		return c, errors.New("modality: no spool folder")
	}
	if c.MaxAssociations <= 0 {
		c.MaxAssociations = DefaultMaxAssociations
	}
	if c.MaxPDULength == 0 {
		c.MaxPDULength = DefaultMaxPDULength
	}
	if c.MaxPDULength < MinPDULength || c.MaxPDULength > MaxPDULimit {
		return c, fmt.Errorf("modality: maximum PDU length %d: want %d to %d", c.MaxPDULength, MinPDULength, MaxPDULimit)
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ARTIMTimeout <= 0 {
		c.ARTIMTimeout = DefaultARTIMTimeout
	}
	if c.MaxObjectSize <= 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
	return c, nil
}

// Server is a C-ECHO and C-STORE service class provider.
type Server struct {
	cfg      Config
	consumer Consumer
	log      *slog.Logger

	established atomic.Int64 // associations past negotiation
	conns       atomic.Int64 // open connections
}

// NewServer checks cfg and returns a provider that hands every object to c.
func NewServer(cfg Config, c Consumer, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("modality: no consumer")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, consumer: c, log: log}, nil
}

// ListenAndServe listens on cfg.Addr and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("modality: listen: %w", err)
	}
	return s.Serve(ctx, l)
}

// Serve accepts associations on l until ctx is done, then aborts those
// still open, waits for them and returns nil. It closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if err := cleanSpool(s.cfg.SpoolDir); err != nil {
		l.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	s.log.Info("modality: listening", "addr", l.Addr().String(), "ae", s.cfg.AETitle)
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			l.Close()
			return fmt.Errorf("modality: accept: %w", err)
		}
		if s.conns.Load() >= int64(2*s.cfg.MaxAssociations+4) {
			s.log.Warn("modality: connection refused, too many open", "addr", conn.RemoteAddr().String())
			conn.Close()
			continue
		}
		s.conns.Add(1)
		wg.Go(func() {
			defer s.conns.Add(-1)
			a := newAssociation(s, conn)
			a.run(ctx)
		})
	}
}

func (s *Server) sourceAllowed(addr net.Addr) bool {
	if len(s.cfg.AllowSources) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	return slices.ContainsFunc(s.cfg.AllowSources, func(p netip.Prefix) bool { return p.Contains(ip) })
}

func (s *Server) callingAllowed(ae string) bool {
	return len(s.cfg.AllowCallingAE) == 0 || slices.Contains(s.cfg.AllowCallingAE, ae)
}
