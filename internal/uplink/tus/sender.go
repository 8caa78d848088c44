package tus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
)

// Sender drains an outbox through a Client, oldest entry first.
type Sender struct {
	Client  *Client
	Outbox  *outbox.Outbox
	Backoff uplink.Backoff
	// Once makes Run return nil when the outbox is empty, and the error of
	// a PermanentError or of MaxStalled attempts in a row that moved nothing.
	Once bool
	// MaxStalled is the attempts without progress a Once run accepts; 0 means 12.
	MaxStalled int
	// Poll is how often an empty outbox is looked at again; 0 means 2 s.
	Poll   time.Duration
	Logger *slog.Logger
	// OnReceipt, if set, sees every receipt acted on.
	OnReceipt func(outbox.Entry, *uplink.Receipt)
}

// Run sends until ctx is done (or, with Once, the outbox is empty).
func (s *Sender) Run(ctx context.Context) error {
	lg := s.Logger
	if lg == nil {
		lg = slog.Default()
	}
	maxStalled := s.MaxStalled
	if maxStalled <= 0 {
		maxStalled = 12
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x7475732073656e64))
	stalled := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		es, err := s.Outbox.Entries()
		if err != nil {
			return err
		}
		if len(es) == 0 {
			if s.Once {
				return nil
			}
			if err := sleep(ctx, poll); err != nil {
				return err
			}
			continue
		}
		e := es[0]
		moved, err := s.sendOne(ctx, e, lg)
		if err == nil {
			stalled = 0
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Outbox.RecordError(err)
		var pe *PermanentError
		if errors.As(err, &pe) && s.Once {
			return err
		}
		if moved {
			stalled = 0
		} else {
			stalled++
		}
		if s.Once && stalled >= maxStalled {
			return fmt.Errorf("tus: %d attempts in a row moved nothing; last: %w", stalled, err)
		}
		d := s.Backoff.Delay(max(stalled-1, 0), rnd)
		lg.Warn("tus: send failed; retrying", "envelope", e.IDHex(), "err", err, "in", d.Round(time.Millisecond))
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// sendOne is one attempt at e, and acting on its receipt.
func (s *Sender) sendOne(ctx context.Context, e outbox.Entry, lg *slog.Logger) (bool, error) {
	rc, moved, err := s.Client.Send(ctx, s.Outbox, e)
	if err != nil {
		if errors.Is(err, outbox.ErrCorrupt) {
			// Never sendable; keep it aside rather than block the queue.
			if rerr := s.Outbox.Reject(ctx, e, "corrupt in the outbox: "+err.Error()); rerr != nil {
				return moved, rerr
			}
		}
		return moved, err
	}
	switch rc.Outcome {
	case uplink.OutcomeStored, uplink.OutcomeDuplicate:
		err = s.Outbox.Ack(ctx, e)
		lg.Info("tus: envelope confirmed by the hub", "envelope", e.IDHex(), "outcome", rc.Outcome)
	case uplink.OutcomeRejected:
		err = s.Outbox.Reject(ctx, e, rc.Reason)
	}
	if err != nil {
		return moved, err
	}
	if s.OnReceipt != nil {
		s.OnReceipt(e, rc)
	}
	return true, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
