package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The command streams exactly the package's golden keystream, so
// "edge chaos keystream | dieharder" tests the bytes the product uses.
func TestChaosKeystreamMatchesGolden(t *testing.T) {
	want, err := os.ReadFile("../../internal/chaos/testdata/keystream-mixed.hex")
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, err := hex.DecodeString(strings.Join(strings.Fields(string(want)), ""))
	if err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	code := run(t.Context(), env{&o, &e}, []string{"chaos", "keystream", "--key",
		"3a72552d9ae70aa9993b3b77f4023f4d4f006705cfee0bea5b13b4bb29472a80", "--bytes", "4096"})
	if code != 0 || !bytes.Equal(o.Bytes(), wantBytes) {
		t.Fatalf("exit %d, %d bytes (want %d golden bytes): %s", code, o.Len(), len(wantBytes), e.String())
	}
	if code := run(t.Context(), env{&o, &e}, []string{"chaos", "keystream", "--key", "abcd"}); code != 2 {
		t.Fatalf("short key: exit %d, want 2", code)
	}
}
