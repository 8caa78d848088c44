package minutiae

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"testing"
	"time"

	"edge/internal/testenv"
)

// cpuLoop runs f b.N times and reports, beside ns/op (wall), the process
// CPU time per operation.
func cpuLoop(b *testing.B, f func(i int)) {
	b.ReportAllocs()
	c0 := cpuTime()
	i := 0
	for b.Loop() {
		f(i)
		i++
	}
	if c := cpuTime() - c0; c > 0 && i > 0 {
		b.ReportMetric(float64(c)/float64(time.Millisecond)/float64(i), "cpu-ms/op")
	}
}

// sensorSized crops or pads a sample print to 256×288, the sensor image
// size the speed target is stated for.
func sensorSized(b *testing.B) image.Image {
	img := decodeFile(b, testenv.Path(b, "fingerprints/multi-impression/1_1.png"))
	out := image.NewGray(image.Rect(0, 0, 256, 288))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min.Add(image.Pt(0, 25)), draw.Src)
	return out
}

func BenchmarkExtract256x288(b *testing.B) {
	img := sensorSized(b)
	cpuLoop(b, func(int) {
		if _, _, err := Extract(img, 500); err != nil {
			b.Fatal(err)
		}
	})
}

func benchSamples(b *testing.B) []Sample {
	var out []Sample
	for _, s := range multiImpression(b) {
		if s.Template != nil {
			out = append(out, s)
		}
	}
	return out
}

func BenchmarkPrepare(b *testing.B) {
	s := benchSamples(b)
	cpuLoop(b, func(i int) { Prepare(s[i%len(s)].Template) })
}

// BenchmarkCompare is one comparison of two prepared templates (genuine
// and impostor pairs alternating), the unit of 1:1 and 1:N matching.
func BenchmarkCompare(b *testing.B) {
	s := benchSamples(b)
	ps := make([]*Prepared, len(s))
	for i := range s {
		ps[i] = Prepare(s[i].Template)
	}
	cpuLoop(b, func(i int) { ps[i%len(ps)].Compare(ps[(i*7+1)%len(ps)]) })
}

// BenchmarkIdentify100 searches one probe among 100 enrolled fingers of
// three impressions each (the sample impressions reused, as only 8 fingers
// exist).
func BenchmarkIdentify100(b *testing.B) {
	s := benchSamples(b)
	ps := make([]*Prepared, len(s))
	for i := range s {
		ps[i] = Prepare(s[i].Template)
	}
	gallery := make([]Candidate, 100)
	for i := range gallery {
		gallery[i] = Candidate{ID: fmt.Sprintf("c%03d", i), Enrolled: enrollPrepared([]*Prepared{ps[i%len(ps)], ps[(i+1)%len(ps)], ps[(i+2)%len(ps)]})}
	}
	ctx := context.Background()
	cpuLoop(b, func(i int) {
		if _, err := Identify(ctx, ps[i%len(ps)], gallery); err != nil {
			b.Fatal(err)
		}
	})
}
