package resnet

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"edge/internal/infer/onnx"
)

func ops(m *onnx.Model) map[string]int {
	c := map[string]int{}
	for _, n := range m.Graph.Nodes {
		c[n.OpType]++
	}
	return c
}

func TestResNet152Structure(t *testing.T) {
	m, err := Build(ResNet152(1))
	if err != nil {
		t.Fatal(err)
	}
	c := ops(m)
	if c["Conv"] != 155 || c["Add"] != 50 || c["MaxPool"] != 1 || c["GlobalAveragePool"] != 1 {
		t.Fatalf("ops %v, want 155 Conv, 50 Add, 1 MaxPool, 1 GlobalAveragePool", c)
	}
	var params int64
	for _, w := range m.Graph.Initializers {
		n, _ := onnx.Elements(w.Dims, 1<<40)
		params += n
	}
	// torchvision's resnet152 has 60,192,808 parameters: 2,049,000 in the
	// classifier, dropped here, and 2 × 75,712 in batch norm, which folding
	// turns into 75,712 conv biases.
	if params != 60_192_808-2_049_000-75_712 {
		t.Fatalf("%d parameters, want 58,068,096", params)
	}
	o := m.Graph.Outputs[0]
	if o.Name != Output || o.Shape[1].Value != 2048 {
		t.Fatalf("output %+v", o)
	}
	// stride sits on the 3×3 conv (v1.5): layer2.0.conv1 is stride 1, conv2 stride 2.
	for _, n := range m.Graph.Nodes {
		if s := n.Attr("strides"); s != nil {
			want := int64(1)
			switch n.Name {
			case "conv1", "maxpool", "layer2.0.conv2", "layer3.0.conv2", "layer4.0.conv2",
				"layer2.0.downsample", "layer3.0.downsample", "layer4.0.downsample":
				want = 2
			}
			if s.Ints[0] != want {
				t.Errorf("%s stride %d, want %d", n.Name, s.Ints[0], want)
			}
		}
	}
}

// TestGolden: the model bytes for a seed are fixed on every architecture
// (checked under qemu for arm64 and arm). EDGE_UPDATE_GOLDEN=1 rewrites.
func TestGolden(t *testing.T) {
	m, err := Build(Config{Blocks: [4]int{1, 1, 2, 1}, Width: 8, Size: 64, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(m.Marshal())
	got := hex.EncodeToString(sum[:]) + "\n"
	p := filepath.Join("testdata", "golden-small.sha256")
	if os.Getenv("EDGE_UPDATE_GOLDEN") != "" {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("model sha256 %s, golden %s", strings.TrimSpace(got), strings.TrimSpace(string(want)))
	}
}

func TestSeedsDiffer(t *testing.T) {
	a, _ := Build(Config{Blocks: [4]int{1, 1, 1, 1}, Width: 4, Size: 32, Seed: 1})
	b, _ := Build(Config{Blocks: [4]int{1, 1, 1, 1}, Width: 4, Size: 32, Seed: 2})
	if string(a.Marshal()) == string(b.Marshal()) {
		t.Fatal("seeds 1 and 2 give the same model")
	}
	w, _ := a.Graph.Initializer("conv1.weight").Floats()
	var mean, sq float64
	for _, v := range w {
		mean += float64(v)
		sq += float64(v) * float64(v)
	}
	mean /= float64(len(w))
	// He uniform for fan-in 147 has variance 2/147; batch norm scales by about 1.
	if v := sq / float64(len(w)); v < 0.5*2/147.0 || v > 2*2/147.0 || mean > 0.05 || mean < -0.05 {
		t.Fatalf("conv1 weights mean %.4f variance %.5f, want ≈0 and ≈%.5f", mean, v, 2/147.0)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{}, {Blocks: [4]int{1, 1, 1, 0}, Width: 8, Size: 64}, {Blocks: [4]int{1, 1, 1, 1}, Width: 8, Size: 8}} {
		if _, err := Build(c); err == nil || !strings.HasPrefix(err.Error(), "resnet: ") {
			t.Errorf("%+v: err %v", c, err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := Build(ResNet152(1))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(m.Marshal())))
	}
}
