package hub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"edge/internal/uplink"
)

// Bucket names of the index; doc.go describes them.
var (
	bucketStored  = []byte("stored")
	bucketUploads = []byte("uploads")
	bucketAudit   = []byte("audit")
	bucketForward = []byte("forward")
	bucketRefused = []byte("refused")
)

// Record is one audit record: one per processed upload, whatever came of it.
type Record struct {
	Seq         uint64    `json:"seq"`
	UploadID    string    `json:"upload_id"`
	EnvelopeID  string    `json:"envelope_id"`
	DeviceID    string    `json:"device_id"`
	ClinicianID string    `json:"clinician_id,omitempty"`
	Captured    time.Time `json:"captured,omitzero"`
	Received    time.Time `json:"received"`
	BER         *float64  `json:"ber,omitempty"`
	NC          *float64  `json:"nc,omitempty"`
	MatchScore  *float64  `json:"match_score,omitempty"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	// Path is the restored image (stored, duplicate) or the refused envelope (rejected).
	Path      string `json:"path,omitempty"`
	Container string `json:"container,omitempty"`
	// Forward is "pending", "done", "refused" (the PACS refused the file
	// itself; see Hub.forwardOnce) or empty when nothing is forwarded.
	Forward   string    `json:"forward,omitempty"`
	PACSID    string    `json:"pacs_id,omitempty"`
	Forwarded time.Time `json:"forwarded,omitzero"`
	// ForwardError is the PACS's last refusal of the file, until it takes it.
	ForwardError string    `json:"forward_error,omitempty"`
	Refused      time.Time `json:"refused,omitzero"`
}

// index is the hub's embedded store: which envelope ids are stored, the
// receipt of every processed upload, the audit trail and the PACS queue. A
// Record and its receipt go in with one transaction, so a crash leaves either
// both or neither.
type index struct {
	db *bolt.DB
}

func openIndex(path string) (*index, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("hub: open index %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketStored, bucketUploads, bucketAudit, bucketForward, bucketRefused} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hub: index %s: %w", path, err)
	}
	return &index{db: db}, nil
}

func (x *index) close() error { return x.db.Close() }

// receipt returns the receipt of an upload, nil when it was not processed.
func (x *index) receipt(uploadID string) (*uplink.Receipt, error) {
	var r *uplink.Receipt
	err := x.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUploads).Get([]byte(uploadID))
		if b == nil {
			return nil
		}
		var err error
		r, err = uplink.ParseReceipt(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("hub: index: receipt of %s: %w", uploadID, err)
	}
	return r, nil
}

// stored returns the record under which an envelope id was stored, nil if none.
func (x *index) stored(envelopeID string) (*Record, error) {
	var rec *Record
	err := x.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStored).Get([]byte(envelopeID))
		if b == nil {
			return nil
		}
		seq := binary.BigEndian.Uint64(b)
		var err error
		rec, err = auditAt(tx, seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("hub: index: envelope %s: %w", envelopeID, err)
	}
	return rec, nil
}

func auditAt(tx *bolt.Tx, seq uint64) (*Record, error) {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	b := tx.Bucket(bucketAudit).Get(k[:])
	if b == nil {
		return nil, fmt.Errorf("audit record %d missing", seq)
	}
	rec := new(Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("audit record %d: %w", seq, err)
	}
	return rec, nil
}

// errDuplicate is commit's answer when the envelope id was stored meanwhile.
var errDuplicate = errors.New("hub: envelope already stored")

// commit appends rec to the audit trail and records the upload's receipt in
// one transaction. A stored record also claims its envelope id, failing with
// errDuplicate when another record holds it; one with Forward "pending" goes
// on the PACS queue.
func (x *index) commit(rec *Record, rc *uplink.Receipt) error {
	rb, err := uplink.MarshalReceipt(rc)
	if err != nil {
		return err
	}
	return x.db.Update(func(tx *bolt.Tx) error {
		if rec.Outcome == uplink.OutcomeStored && tx.Bucket(bucketStored).Get([]byte(rec.EnvelopeID)) != nil {
			return errDuplicate
		}
		audit := tx.Bucket(bucketAudit)
		seq, err := audit.NextSequence()
		if err != nil {
			return err
		}
		rec.Seq = seq
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := audit.Put(k[:], b); err != nil {
			return err
		}
		if rec.Outcome == uplink.OutcomeStored {
			if err := tx.Bucket(bucketStored).Put([]byte(rec.EnvelopeID), k[:]); err != nil {
				return err
			}
			if rec.Forward == forwardPending {
				if err := tx.Bucket(bucketForward).Put(k[:], nil); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketUploads).Put([]byte(rc.UploadID), rb)
	})
}

// pending lists the audit sequence numbers waiting for the PACS, oldest first.
func (x *index) pending() ([]uint64, error) {
	var seqs []uint64
	err := x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketForward).ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				seqs = append(seqs, binary.BigEndian.Uint64(k))
			}
			return nil
		})
	})
	return seqs, err
}

func (x *index) record(seq uint64) (*Record, error) {
	var rec *Record
	err := x.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = auditAt(tx, seq)
		return err
	})
	return rec, err
}

// forwarded marks a record as in the PACS and takes it off the queue.
func (x *index) forwarded(seq uint64, pacsID string, at time.Time) error {
	return x.updateRecord(seq, func(rec *Record, tx *bolt.Tx, k []byte) error {
		rec.Forward, rec.PACSID, rec.Forwarded, rec.ForwardError = forwardDone, pacsID, at, ""
		return tx.Bucket(bucketForward).Delete(k)
	})
}

// refused marks a record as refused by the PACS, with why, and moves it
// from the queue to the refused set, so the files behind it go on.
func (x *index) refused(seq uint64, why string, at time.Time) error {
	return x.updateRecord(seq, func(rec *Record, tx *bolt.Tx, k []byte) error {
		rec.Forward, rec.ForwardError, rec.Refused = forwardRefused, why, at
		if err := tx.Bucket(bucketForward).Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketRefused).Put(k, nil)
	})
}

// requeueRefused puts every refused record back on the queue, oldest
// first in its place, and returns how many: a hub does this when it
// starts, so that once the PACS has been set up to take them (a SOP class
// added, a size limit raised) a restart sends them.
func (x *index) requeueRefused() (int, error) {
	var n int
	err := x.db.Update(func(tx *bolt.Tx) error {
		ref := tx.Bucket(bucketRefused)
		var keys [][]byte
		if err := ref.ForEach(func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			rec, err := auditAt(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			rec.Forward = forwardPending
			if err := putRecord(tx, k, rec); err != nil {
				return err
			}
			if err := tx.Bucket(bucketForward).Put(k, nil); err != nil {
				return err
			}
			if err := ref.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("hub: index: requeue refused files: %w", err)
	}
	return n, nil
}

// updateRecord changes record seq with f in one transaction.
func (x *index) updateRecord(seq uint64, f func(rec *Record, tx *bolt.Tx, k []byte) error) error {
	return x.db.Update(func(tx *bolt.Tx) error {
		rec, err := auditAt(tx, seq)
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if err := f(rec, tx, k[:]); err != nil {
			return err
		}
		return putRecord(tx, k[:], rec)
	})
}

func putRecord(tx *bolt.Tx, k []byte, rec *Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAudit).Put(k, b)
}

// audit returns every record, in the order they were made.
func (x *index) audit() ([]Record, error) {
	var out []Record
	err := x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("audit record %x: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("hub: index: audit: %w", err)
	}
	return out, nil
}

// counts are the totals /healthz and /metrics show.
func (x *index) counts() (c indexCounts, err error) {
	err = x.db.View(func(tx *bolt.Tx) error {
		c.stored = tx.Bucket(bucketStored).Stats().KeyN
		c.pending = tx.Bucket(bucketForward).Stats().KeyN
		c.refused = tx.Bucket(bucketRefused).Stats().KeyN
		return nil
	})
	return c, err
}

type indexCounts struct{ stored, pending, refused int }

// ReadAudit reads the audit records of a hub's store: from the hub serving
// it, through its admin socket, or with no hub running from the index,
// opened read-only.
func ReadAudit(ctx context.Context, c *Config) ([]Record, error) {
	st := c.Path(c.Store)
	recs, err := auditFromHub(ctx, st)
	if !errors.Is(err, errNoHub) {
		return recs, err
	}
	p := filepath.Join(st, indexFile)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("hub: audit: %w", err)
	}
	db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true, Timeout: 3 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("hub: audit: %s is held by a running hub; stop it first", p)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: audit: open %s: %w", p, err)
	}
	x := &index{db: db}
	defer x.close()
	return x.audit()
}
