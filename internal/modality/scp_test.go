package modality

import (
	"testing"
)

func TestEchoSCU(t *testing.T) {
	ts := startServer(t, nil, nil)
	out, err := dcmtk(t, "echoscu", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", ts.port)
	if err != nil {
		t.Fatalf("echoscu: %v\n%s", err, out)
	}
	if logs := ts.logs.String(); !containsAll(logs, "C-ECHO", "association released") {
		t.Fatalf("log lacks the echo and release:\n%s", logs)
	}
}
