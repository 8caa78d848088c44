package protect

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"edge/internal/medimg"
	"edge/internal/testenv"
)

// The appliance's per-image cost: a 512×512 12-of-16-bit image (the size of
// a CT slice), protected on the device and recovered at the hub.
func benchmarkImage(b testing.TB) (*Request, int) {
	im := synthetic(512, 512, 12, false, 1, 42)
	return &Request{Image: im, Identity: testIdentity(b, 1, "bench")}, im.RawSize()
}

func BenchmarkProtect512x512x16(b *testing.B) {
	for _, scheme := range []string{SchemeV1, SchemePaper} {
		b.Run(scheme, func(b *testing.B) {
			f := newFixture(b)
			req, raw := benchmarkImage(b)
			req.Scheme = scheme
			b.SetBytes(int64(raw))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.sealer.Protect(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecover512x512x16(b *testing.B) {
	for _, scheme := range []string{SchemeV1, SchemePaper} {
		b.Run(scheme, func(b *testing.B) {
			f := newFixture(b)
			req, raw := benchmarkImage(b)
			req.Scheme = scheme
			p, err := f.sealer.Protect(context.Background(), req)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(raw))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.opener.Recover(context.Background(), p.Envelope); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProtectFile and BenchmarkRecoverFile measure the sample images the
// appliance's figures are quoted for, when ../shared/data is present.
func benchFiles(b *testing.B) map[string]*Request {
	dir := testenv.Path(b, "medical")
	out := map[string]*Request{}
	for _, name := range []string{"MR2_UNCR.dcm", "RG3_J2KR_decoded16.png", "CT_small.dcm"} {
		im, c, err := medimg.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		out[name] = &Request{Image: im, Container: c, Identity: testIdentity(b, 1, "bench")}
	}
	return out
}

func BenchmarkProtectFile(b *testing.B) {
	for name, req := range benchFiles(b) {
		b.Run(name, func(b *testing.B) {
			f := newFixture(b)
			b.SetBytes(int64(req.Image.RawSize()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.sealer.Protect(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecoverFile(b *testing.B) {
	for name, req := range benchFiles(b) {
		b.Run(name, func(b *testing.B) {
			f := newFixture(b)
			p, err := f.sealer.Protect(context.Background(), req)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(req.Image.RawSize()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.opener.Recover(context.Background(), p.Envelope); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProtectSizes and BenchmarkRecoverSizes give the time per pixel
// (ns/pixel) from a 256² to a 3072² 16-bit image of the same local
// structure, in one process: the appliance's cost per image, without a
// command's start-up. The time per pixel should not grow with the image.
var scaleSizes = []int{256, 512, 1024, 2048, 3072}

func BenchmarkProtectSizes(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			f := newFixture(b)
			req := &Request{Image: synthetic(n, n, 16, false, 1, 7), Identity: testIdentity(b, 1, "bench")}
			b.SetBytes(int64(req.Image.RawSize()))
			for b.Loop() {
				if _, err := f.sealer.Protect(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*n), "ns/pixel")
		})
	}
}

func BenchmarkRecoverSizes(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			f := newFixture(b)
			req := &Request{Image: synthetic(n, n, 16, false, 1, 7), Identity: testIdentity(b, 1, "bench")}
			p, err := f.sealer.Protect(context.Background(), req)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(req.Image.RawSize()))
			for b.Loop() {
				if _, err := f.opener.Recover(context.Background(), p.Envelope); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*n), "ns/pixel")
		})
	}
}
