package modality_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"edge/internal/modality"
)

// A consumer that takes each object into the appliance's own pipeline; here
// it only prints what arrived.
type printer struct{}

func (printer) Store(_ context.Context, obj *modality.Object) error {
	fmt.Printf("%s from %s (%s): %s, %d bytes\n", obj.SOPInstanceUID, obj.CallingAE, obj.RemoteAddr, obj.Path, obj.Size)
	return nil
}

func ExampleNewServer() {
	srv, err := modality.NewServer(modality.Config{
		Addr:           ":11112",
		AETitle:        "EDGE",
		AllowCallingAE: []string{"US_CART", "CR_PORTABLE"},
		SpoolDir:       "/var/lib/edge/incoming",
	}, printer{}, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = srv // srv.ListenAndServe(ctx) serves until ctx is done.
	// Output:
}

func ExampleFileName() {
	fmt.Println(modality.FileName("1.2.840.113619.2.55.3.1"))
	fmt.Println(modality.FileName("../../etc/passwd"))
	// Output:
	// 1.2.840.113619.2.55.3.1.dcm
	// uid-3754d6cb3a38e1185e5b382d5f3ef3f1.dcm
}
