package tus

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
)

// DrainOptions are what `edge uplink send` takes.
type DrainOptions struct {
	Outbox    string
	Hub       string
	Pin       string
	DeviceKey string // path of device.key
	Once      bool
	RateBits  int64
	ChunkSize int
	Parallel  int
	Backoff   uplink.Backoff
	Logger    *slog.Logger
	// OnReceipt, if set, sees each receipt acted on.
	OnReceipt func(outbox.Entry, *uplink.Receipt)
}

// Drain opens the outbox and the device key and sends until ctx is done, or
// with Once until the outbox is empty.
func Drain(ctx context.Context, opt DrainOptions) error {
	if u, err := url.Parse(opt.Hub); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("tus: hub URL %q is not https://host:port", opt.Hub)
	}
	dev, err := uplink.LoadDeviceKey(opt.DeviceKey)
	if err != nil {
		return err
	}
	cert, err := dev.TLSCertificate(time.Now())
	if err != nil {
		return err
	}
	hc, err := NewHTTPClient(opt.Pin, cert)
	if err != nil {
		return err
	}
	o, err := outbox.Open(opt.Outbox, outbox.Options{Logger: opt.Logger})
	if err != nil {
		return err
	}
	defer o.Close()
	s := &Sender{
		Client:    &Client{Hub: opt.Hub, HTTP: hc, DeviceID: dev.ID(), ChunkSize: opt.ChunkSize, RateBits: opt.RateBits, Logger: opt.Logger},
		Outbox:    o,
		Backoff:   opt.Backoff,
		Once:      opt.Once,
		Parallel:  opt.Parallel,
		Logger:    opt.Logger,
		OnReceipt: opt.OnReceipt,
	}
	return s.Run(ctx)
}
