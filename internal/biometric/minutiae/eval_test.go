package minutiae

import (
	"context"
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
