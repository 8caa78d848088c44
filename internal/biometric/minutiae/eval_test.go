package minutiae

import (
	"context"
	"math"
	"testing"
)

func TestEvaluateMultiImpression(t *testing.T) {
	samples := multiImpression(t)
	ev, err := Evaluate(context.Background(), samples, 3)
	if err != nil {
		t.Fatal(err)
	}
	logRates := func(name string, r Rates) {
		t.Logf("%-9s genuine %3d impostor %4d  EER %5.2f %% (threshold %.4f)  FMR100 %5.2f %%  FMR1000 %5.2f %%  ZeroFMR %5.2f %% (threshold %.4f)  lowest genuine %.4f, highest impostor %.4f",
			name, r.Genuine, r.Impostor, 100*r.EER, r.EERThreshold, 100*r.FMR100, 100*r.FMR1000, 100*r.ZeroFMR, r.ZeroFMRThreshold, r.MinGenuine, r.MaxImpostor)
	}
	t.Logf("%d fingers, %d prints, failed to acquire %d, failed to enroll %d (FTE %.1f %%)", ev.Fingers, ev.Prints, ev.FailedToAcquire, ev.FailedToEnroll, 100*ev.FTE)
	logRates("enroll 3", ev.Split)
	logRates("FVC", ev.FVC)
	logRates("all pairs", ev.AllPairs)
	if ev.Fingers != 8 || ev.Prints != 64 {
		t.Fatalf("expected the 8×8 set, got %d fingers, %d prints", ev.Fingers, ev.Prints)
	}
	// The targets on this set.
	if ev.Split.EER > 0.02 {
		t.Errorf("enroll-3 EER %.2f %% > 2 %%", 100*ev.Split.EER)
	}
	if ev.Split.FMR1000 > 0.05 {
		t.Errorf("enroll-3 FNMR at FMR 0.1 %% is %.2f %% > 5 %%", 100*ev.Split.FMR1000)
	}
	if ev.FailedToEnroll != 0 {
		t.Errorf("%d fingers failed to enroll", ev.FailedToEnroll)
	}
}

func TestComputeRates(t *testing.T) {
	// 10 genuine, 10 impostor; one impostor (0.55) above two genuine
	// scores (0.5, 0.52).
	gen := []float64{0.5, 0.52, 0.6, 0.7, 0.7, 0.8, 0.85, 0.9, 0.95, 1}
	imp := []float64{0, 0.05, 0.1, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.55}
	r, err := ComputeRates(gen, imp)
	if err != nil {
		t.Fatal(err)
	}
	// Cut between 0.55 and 0.6: FMR 0, FNMR 0.2. Cut between 0.4 and 0.5:
	// FMR 0.1, FNMR 0 — the better max(FMR, FNMR).
	if r.EER != 0.1 || r.EERThreshold != 0.45 {
		t.Errorf("EER %v at %v, want 0.1 at 0.45", r.EER, r.EERThreshold)
	}
	if r.ZeroFMR != 0.2 || r.ZeroFMRThreshold != 0.575 {
		t.Errorf("ZeroFMR %v at %v, want 0.2 at 0.575", r.ZeroFMR, r.ZeroFMRThreshold)
	}
	// FMR ≤ 1 % and ≤ 0.1 % both mean no impostor accepted with 10.
	if r.FMR100 != 0.2 || r.FMR1000 != 0.2 {
		t.Errorf("FMR100 %v, FMR1000 %v, want 0.2", r.FMR100, r.FMR1000)
	}
	if r.MinGenuine != 0.5 || r.MaxImpostor != 0.55 {
		t.Errorf("min genuine %v, max impostor %v", r.MinGenuine, r.MaxImpostor)
	}
	if _, err := ComputeRates(nil, imp); err == nil {
		t.Error("no genuine scores accepted")
	}
	if _, err := ComputeRates(gen, []float64{math.NaN()}); err == nil {
		t.Error("NaN accepted")
	}
}
