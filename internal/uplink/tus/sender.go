package tus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
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
	// OnReceipt, if set, sees every receipt acted on, one at a time.
	OnReceipt func(outbox.Entry, *uplink.Receipt)
	// Parallel is how many envelopes are in flight at once; 0 means 4. On
	// a 256 kbit/s link one in flight leaves the link idle while the hub
	// restores and both ends fsync, about a third of the time here; four
	// keep it within a few per cent of busy (BenchmarkDrain256k).
	Parallel int
}

// Run sends until ctx is done (or, with Once, the outbox is empty).
//
// Parallel workers each take the oldest entry no other worker holds, so
// while the hub restores one envelope (its last PATCH waiting on the
// answer) the link carries the next one.
func (s *Sender) Run(ctx context.Context) error {
	lg := s.Logger
	if lg == nil {
		lg = slog.Default()
	}
	st := &runState{s: s, lg: lg, claimed: map[string]bool{}, maxStalled: s.MaxStalled, poll: s.Poll}
	if st.maxStalled <= 0 {
		st.maxStalled = 12
	}
	if st.poll <= 0 {
		st.poll = 2 * time.Second
	}
	n := s.Parallel
	if n <= 0 {
		n = 4
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.worker(ctx, uint64(i)); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

type runState struct {
	s          *Sender
	lg         *slog.Logger
	maxStalled int
	poll       time.Duration

	mu      sync.Mutex
	claimed map[string]bool
	stalled int
}

// claim returns the oldest entry no worker holds. idle is true when the
// outbox is empty and no worker holds anything.
func (st *runState) claim() (e outbox.Entry, ok, idle bool, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	es, err := st.s.Outbox.Entries()
	if err != nil {
		return e, false, false, err
	}
	for _, x := range es {
		if !st.claimed[x.Name] {
			st.claimed[x.Name] = true
			return x, true, false, nil
		}
	}
	return e, false, len(es) == 0 && len(st.claimed) == 0, nil
}

func (st *runState) release(e outbox.Entry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.claimed, e.Name)
}

func (st *runState) worker(ctx context.Context, i uint64) error {
	s := st.s
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x7475732073656e64+i))
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		e, ok, idle, err := st.claim()
		if err != nil {
			return err
		}
		if !ok {
			if idle && s.Once {
				return nil
			}
			wait := st.poll
			if !idle {
				wait = min(wait, 100*time.Millisecond) // another worker holds the last entries
			}
			if sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		moved, err := st.sendOne(ctx, e)
		st.release(e)
		if err == nil {
			st.mu.Lock()
			st.stalled = 0
			st.mu.Unlock()
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		s.Outbox.RecordError(err)
		var pe *PermanentError
		if errors.As(err, &pe) && s.Once {
			return err
		}
		st.mu.Lock()
		if moved {
			st.stalled = 0
		} else {
			st.stalled++
		}
		stalled := st.stalled
		st.mu.Unlock()
		if s.Once && stalled >= st.maxStalled {
			return fmt.Errorf("tus: %d attempts in a row moved nothing; last: %w", stalled, err)
		}
		d := s.Backoff.Delay(max(stalled-1, 0), rnd)
		st.lg.Warn("tus: send failed; retrying", "envelope", e.IDHex(), "err", err, "in", d.Round(time.Millisecond))
		if sleep(ctx, d) != nil {
			return nil
		}
	}
}

// sendOne is one attempt at e, and acting on its receipt.
func (st *runState) sendOne(ctx context.Context, e outbox.Entry) (bool, error) {
	s, lg := st.s, st.lg
	rc, moved, err := s.Client.Send(ctx, s.Outbox, e)
	var rf *RefusedError
	if errors.As(err, &rf) {
		rc, err = &uplink.Receipt{EnvelopeID: e.IDHex(), Outcome: uplink.OutcomeRejected, Reason: rf.Error()}, nil
	}
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
		st.mu.Lock()
		s.OnReceipt(e, rc)
		st.mu.Unlock()
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
