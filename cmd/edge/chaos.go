package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"syscall"

	"edge/internal/chaos"
)

// runChaos serves "edge chaos keystream": the conditioned keystream on
// stdout, for statistical test suites such as dieharder -g 200.
func runChaos(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "keystream" {
		return fmt.Errorf("%w: want \"chaos keystream --key HEX [--bytes N]\"", errUsage)
	}
	fs := newFlags(e, "chaos keystream")
	keyHex := fs.String("key", "", fmt.Sprintf("key, %d bytes as hex", chaos.KeySize))
	n := fs.Int64("bytes", 0, "bytes to write; 0 writes until stdout is closed")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "key"); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("%w: -bytes %d is negative", errUsage, *n)
	}
	key, err := hex.DecodeString(*keyHex)
	if err != nil {
		return fmt.Errorf("%w: -key %q: %v", errUsage, *keyHex, err)
	}
	s, err := chaos.NewStream(key)
	if err != nil {
		return fmt.Errorf("%w: -key: %v", errUsage, err)
	}
	// Without this a write to a closed stdout kills the process with
	// SIGPIPE; with it the write fails with EPIPE and the command ends cleanly.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)
	err = writeKeystream(ctx, e.stdout, s, *n)
	if isClosedPipe(err) {
		// The reader has all it wanted: stopping is the normal end of an
		// unbounded stream.
		return nil
	}
	return err
}

// writeKeystream copies n bytes of s to w, or without end when n is 0, in
// large writes, checking ctx between them.
func writeKeystream(ctx context.Context, w io.Writer, s io.Reader, n int64) error {
	buf := make([]byte, 64<<10)
	for written := int64(0); n == 0 || written < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := buf
		if n > 0 && n-written < int64(len(b)) {
			b = b[:n-written]
		}
		s.Read(b)
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("writing keystream: %w", err)
		}
		written += int64(len(b))
	}
	return nil
}

func isClosedPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, fs.ErrClosed) || errors.Is(err, os.ErrClosed)
}
