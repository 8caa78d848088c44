package biometric

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

var half = &Calibration{Threshold: 0.5}

func TestEnrollRejectsDisagreeingPrints(t *testing.T) {
	vs := fingerVectors(1, 3, 64, 0.3)
	vs[1] = fingerVectors(2, 1, 64, 0.3)[0] // another finger
	_, scores, err := Enroll(testModel, vs, half)
	var ae *AgreementError
	if !errors.As(err, &ae) {
		t.Fatalf("enrollment with a foreign print: %v, want AgreementError", err)
	}
	if len(scores) != 3 || scores[1] >= 0.5 {
		t.Errorf("scores %v: print 2 should be below 0.5", scores)
	}
	if !strings.Contains(err.Error(), "print 2") || !strings.Contains(err.Error(), "(below)") {
		t.Errorf("error %q does not point at print 2", err)
	}
	if _, _, err := Enroll(testModel, vs[:1], half); err == nil {
		t.Error("enrollment with one print accepted")
	}
}

func TestEnrollAgrees(t *testing.T) {
	vs := fingerVectors(3, 4, 128, 0.2)
	tm, scores, err := Enroll(testModel, vs, half)
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Vectors) != 4 {
		t.Errorf("template keeps %d vectors, want 4", len(tm.Vectors))
	}
	for i, s := range scores {
		if s < 0.9 {
			t.Errorf("print %d scored %v against the others, want ≥ 0.9 at noise 0.2", i, s)
		}
	}
}

func TestVerifyAndIdentify(t *testing.T) {
	all := make([]Enrolled, 3)
	probes := make([][]float32, 3)
	for i := range all {
		vs := fingerVectors(uint64(10+i), 4, 64, 0.3)
		tm, _, err := Enroll(testModel, vs[:3], half)
		if err != nil {
			t.Fatal(err)
		}
		all[i] = Enrolled{ID: string(rune('a' + i)), Template: tm}
		probes[i] = vs[3]
	}
	for i, p := range probes {
		d, err := Verify(all[i].ID, all[i].Template, testModel, half, p)
		if err != nil || !d.Match {
			t.Errorf("own finger %d: %+v %v", i, d, err)
		}
		d, err = Verify(all[(i+1)%3].ID, all[(i+1)%3].Template, testModel, half, p)
		if err != nil || d.Match {
			t.Errorf("finger %d against another: %+v %v", i, d, err)
		}
		best, ds, err := Identify(context.Background(), all, testModel, half, p)
		if err != nil || best.ID != all[i].ID || !best.Match || len(ds) != 3 {
			t.Errorf("identify finger %d: %+v %v", i, best, err)
		}
	}
	stranger := fingerVectors(99, 1, 64, 0)[0]
	best, _, err := Identify(context.Background(), all, testModel, half, stranger)
	if err != nil || best.Match {
		t.Errorf("stranger identified as %+v (%v)", best, err)
	}
	if _, err := Verify("a", all[0].Template, [32]byte{7}, half, probes[0]); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("probe from another model: %v", err)
	}
	if _, err := Verify("a", all[0].Template, testModel, half, probes[0][:10]); err == nil {
		t.Error("probe of the wrong length accepted")
	}
	nan := append([]float32(nil), probes[0]...)
	nan[5] = float32(math.NaN())
	if _, err := Verify("a", all[0].Template, testModel, half, nan); err == nil {
		t.Error("probe with NaN accepted")
	}
	if _, _, err := Identify(context.Background(), nil, testModel, half, probes[0]); err == nil {
		t.Error("identify over an empty store succeeded")
	}
}

func TestNormalizeZero(t *testing.T) {
	if _, err := Normalize(make([]float32, 8)); !errors.Is(err, ErrZeroVector) {
		t.Errorf("zero vector: %v", err)
	}
}
