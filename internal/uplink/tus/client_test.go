package tus

import (
	"strings"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"
)

func TestMetadataIsTus(t *testing.T) {
	env, dev := strings.Repeat("ab", 16), "0123456789abcdef"
	md := handler.ParseMetadataHeader(Metadata(env, dev))
	if len(md) != 2 || md["envelope_id"] != env || md["device_id"] != dev {
		t.Fatalf("tusd reads %v", md)
	}
}

func TestResolveKeepsOnlyThePath(t *testing.T) {
	c := &Client{Hub: "https://hub.example:8443"}
	got, err := c.resolve("https://10.0.0.9:1234/files/abc-def?x=1#y")
	if err != nil || got != "https://hub.example:8443/files/abc-def" {
		t.Fatalf("%q, %v", got, err)
	}
	for _, bad := range []string{"https://h/other/abc", "https://h/files/", "::"} {
		if _, err := c.resolve(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseLength(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "12345": 12345} {
		if got, err := parseLength(s); err != nil || got != want {
			t.Errorf("%q: %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1e3", " 1", "99999999999999999999"} {
		if _, err := parseLength(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestNewHTTPClientWantsAPin(t *testing.T) {
	if _, err := NewHTTPClient("not-a-pin", tlsCert()); err == nil {
		t.Fatal("a malformed pin was accepted")
	}
}
