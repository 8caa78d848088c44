package tus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"edge/internal/uplink"
)

// TestRefusedByHub: after a failed request, the probe tells a hub that
// refuses the device's certificate (an alert after the TLS 1.3 handshake)
// from one that takes it.
func TestRefusedByHub(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		ts.TLS = &tls.Config{
			MinVersion: tls.VersionTLS13,
			ClientAuth: tls.RequireAnyClientCert,
			VerifyPeerCertificate: func([][]byte, [][]*x509.Certificate) error {
				if refuse {
					return errors.New("unknown device")
				}
				return nil
			},
		}
		ts.StartTLS()
		hc, err := NewHTTPClient(uplink.SPKIPin(ts.Certificate()), tlsCert())
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, ts.URL+filesPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := (&Client{HTTP: hc}).refusedByHub(req)
		if refuse && got == nil {
			t.Error("a hub that refuses the certificate was not recognised")
		}
		if !refuse && got != nil {
			t.Errorf("a hub that takes the certificate counted as refusing: %v", got)
		}
		ts.Close()
	}
}
