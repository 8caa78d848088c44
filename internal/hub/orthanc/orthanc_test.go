package orthanc_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"edge/internal/hub/orthanc"
	"edge/internal/hub/orthanc/orthanctest"
	"edge/internal/testenv"
)

func TestPostTwiceKeepsOne(t *testing.T) {
	dcm, err := os.ReadFile(testenv.Path(t, "medical/CT_small.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	srv := orthanctest.Start(t)
	c := &orthanc.Client{URL: srv.URL}
	ctx := context.Background()
	a, err := c.Post(ctx, dcm)
	if err != nil || a.Status != "Success" {
		t.Fatalf("first post: %+v, %v", a, err)
	}
	b, err := c.Post(ctx, dcm)
	if err != nil || b.Status != "AlreadyStored" || b.ID != a.ID {
		t.Fatalf("second post: %+v, %v (first %s)", b, err, a.ID)
	}
	ids, err := srv.Instances(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("instances %v, %v", ids, err)
	}
	back, err := srv.File(ctx, a.ID)
	if err != nil || !bytes.Equal(back, dcm) {
		t.Fatalf("file back from Orthanc differs (%d bytes, %v)", len(back), err)
	}
	_, err = c.Post(ctx, []byte("not dicom"))
	var he *orthanc.HTTPError
	if !errors.As(err, &he) || !he.FileRefused() {
		t.Fatalf("Orthanc's answer to a non-DICOM body: %v, want a refusal of the file", err)
	}
}

func TestAnswerChecked(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"status", `{"ID":"x","Status":"Failure"}`, 200, "status"},
		{"no id", `{"Status":"Success"}`, 200, "no instance id"},
		{"not json", `<html>`, 200, "not the JSON"},
		{"http error", `busy`, 503, "503"},
		{"unauthorized", `no`, 401, "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				w.Write([]byte(tc.body))
			}))
			defer s.Close()
			_, err := (&orthanc.Client{URL: s.URL}).Forward(context.Background(), []byte("x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			// None of these is about the file: the hub must retry them.
			var he *orthanc.HTTPError
			if errors.As(err, &he) && he.FileRefused() {
				t.Fatalf("%v taken for a refusal of the file", err)
			}
		})
	}
}
