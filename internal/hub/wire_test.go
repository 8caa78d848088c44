package hub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"edge/internal/hub"
	"edge/internal/uplink"
	"edge/internal/uplink/uplinktest"
)

// TestDevicesSpeakHTTP2 checks the device's client and the hub agree on
// HTTP/2, and that a tus client speaking only HTTP/1.1 still uploads.
func TestDevicesSpeakHTTP2(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	d := newDevice(t, th, dev)
	resp, err := d.client.HTTP.Get(th.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("device and hub speak %s", resp.Proto)
	}

	tr := d.client.HTTP.Transport.(*http.Transport).Clone()
	var h1 http.Protocols
	h1.SetHTTP1(true)
	tr.Protocols = &h1
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	d.client.HTTP = &http.Client{Transport: tr}
	resp, err = d.client.HTTP.Get(th.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Fatalf("HTTP/1.1-only client got %s", resp.Proto)
	}
	id := d.enqueue(t, seal(t, hubPub(t, dir), dev, synthetic(64, 64, 5), nil))
	got, err := d.drain(t)
	if err != nil || got[id] == nil || got[id].Outcome != uplink.OutcomeStored {
		t.Fatalf("over HTTP/1.1: %+v, %v", got[id], err)
	}
}

// TestWholeCreateFallsBack sends a small envelope inside its creation
// request; when that request is cut, the next attempt creates the upload
// empty first, saves its URL and so becomes resumable.
func TestWholeCreateFallsBack(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	d := newDevice(t, th, dev)
	env := seal(t, hubPub(t, dir), dev, synthetic(100, 100, 4), nil)
	if len(env) > 32<<10 {
		t.Fatalf("envelope of %d bytes is no small one", len(env))
	}
	id := d.enqueue(t, env)
	d.client.RateBits = 8 * 4 << 10 // 4 KiB/s: the envelope takes seconds
	es, _ := d.outbox.Entries()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, _, err := d.client.Send(ctx, d.outbox, es[0])
	cancel()
	if es, _ = d.outbox.Entries(); err == nil || es[0].UploadURL != "" {
		t.Fatalf("cut whole creation: err %v, upload URL %q", err, es[0].UploadURL)
	}
	d.client.ChunkSize = 1 << 10 // so that some chunks are through before the cut
	ctx, cancel = context.WithTimeout(context.Background(), 800*time.Millisecond)
	_, moved, err := d.client.Send(ctx, d.outbox, es[0])
	cancel()
	if es, _ = d.outbox.Entries(); err == nil || !moved || es[0].UploadURL == "" {
		t.Fatalf("second attempt: moved %v, err %v, upload URL %q; want a saved, partial upload", moved, err, es[0].UploadURL)
	}
	d.client.RateBits = 0
	got, err := d.drain(t)
	if err != nil || got[id] == nil || got[id].Outcome != uplink.OutcomeStored {
		t.Fatalf("resumed: %+v, %v", got[id], err)
	}
}
