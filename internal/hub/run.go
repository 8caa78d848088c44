package hub

import (
	"context"
	"fmt"
	"net"
)

// Run loads the config at path and serves the hub on its listen address
// until ctx is done. ready, if set, gets the address once it listens.
func Run(ctx context.Context, path string, opt Options, ready func(addr string)) error {
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	h, err := New(cfg, opt)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("hub: listen %s: %w", cfg.Listen, err)
	}
	if ready != nil {
		ready(l.Addr().String())
	}
	h.log.Info("hub: serving", "addr", l.Addr().String(), "store", cfg.Path(cfg.Store), "pacs", cfg.PACS.OrthancURL != "")
	return h.Serve(ctx, l)
}
