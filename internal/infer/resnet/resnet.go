package resnet

import (
	"fmt"
	"math"
	"strconv"

	"edge/internal/infer/onnx"
)

// Config chooses the network. The zero value is not valid; start from
// ResNet152 or set every field.
type Config struct {
	// Blocks is the number of bottleneck blocks in each of the four stages.
	Blocks [4]int
	// Width is the first stage's bottleneck width; the features are 32·Width.
	Width int
	// Size is the input's height and width.
	Size int
	// Seed picks the weights.
	Seed uint64
}

// ResNet152 is the full network with the given seed.
func ResNet152(seed uint64) Config {
	return Config{Blocks: [4]int{3, 8, 36, 3}, Width: 64, Size: 224, Seed: seed}
}

// Names of the graph's input and output.
const (
	Input  = "input"
	Output = "features"
)

// Features is the length of the output vector.
func (c Config) Features() int { return 32 * c.Width }

// Check reports a configuration that cannot be built.
func (c Config) Check() error {
	for i, b := range c.Blocks {
		if b < 1 || b > 64 {
			return fmt.Errorf("resnet: stage %d has %d blocks, want 1 to 64", i+1, b)
		}
	}
	if c.Width < 1 || c.Width > 256 {
		return fmt.Errorf("resnet: width %d, want 1 to 256", c.Width)
	}
	if c.Size < 32 || c.Size > 1024 {
		return fmt.Errorf("resnet: input size %d, want 32 to 1024", c.Size)
	}
	return nil
}

// builder accumulates the graph; stream numbers each weight tensor so each
// has its own counter space in the generator.
type builder struct {
	c      Config
	g      *onnx.Graph
	stream uint64
}

// Build makes the fp32 model with batch norm folded into the convolutions.
func Build(c Config) (*onnx.Model, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	b := &builder{c: c, g: &onnx.Graph{Name: "resnet"}}
	b.g.Inputs = []*onnx.ValueInfo{onnx.TensorValue(Input, onnx.Float, 1, 3, int64(c.Size), int64(c.Size))}
	b.g.Outputs = []*onnx.ValueInfo{onnx.TensorValue(Output, onnx.Float, 1, int64(c.Features()))}

	x := b.conv("conv1", Input, 3, c.Width, 7, 2, 1)
	x = b.relu("relu", x)
	b.node("MaxPool", "maxpool", []string{x}, "maxpool.out",
		onnx.IntsAttr("kernel_shape", 3, 3), onnx.IntsAttr("strides", 2, 2), onnx.IntsAttr("pads", 1, 1, 1, 1))
	x = "maxpool.out"
	in := c.Width
	for s, n := range c.Blocks {
		planes := c.Width << s
		for i := 0; i < n; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			name := "layer" + strconv.Itoa(s+1) + "." + strconv.Itoa(i)
			x = b.bottleneck(name, x, in, planes, stride)
			in = 4 * planes
		}
	}
	b.node("GlobalAveragePool", "avgpool", []string{x}, "avgpool.out")
	b.node("Flatten", "flatten", []string{"avgpool.out"}, Output, onnx.IntAttr("axis", 1))

	cfg := fmt.Sprintf("blocks=%d,%d,%d,%d width=%d size=%d", c.Blocks[0], c.Blocks[1], c.Blocks[2], c.Blocks[3], c.Width, c.Size)
	return &onnx.Model{
		IRVersion:    8,
		ProducerName: "edge",
		Opsets:       []onnx.Opset{{Version: 13}},
		DocString:    "ResNet (torchvision v1.5 bottleneck topology, no classifier), seeded untrained weights, batch norm folded",
		Graph:        b.g,
		Metadata: []onnx.KV{
			{Key: "edge.resnet", Value: cfg},
			{Key: "edge.seed", Value: strconv.FormatUint(c.Seed, 10)},
		},
	}, nil
}

// bottleneck is conv1x1 → conv3x3 (stride) → conv1x1 ×4, plus the shortcut
// (a strided 1×1 projection when the shape changes), added, then ReLU.
func (b *builder) bottleneck(name, x string, in, planes, stride int) string {
	y := b.relu(name+".relu1", b.conv(name+".conv1", x, in, planes, 1, 1, 1))
	y = b.relu(name+".relu2", b.conv(name+".conv2", y, planes, planes, 3, stride, 1))
	y = b.conv(name+".conv3", y, planes, 4*planes, 1, 1, 0.2)
	short := x
	if stride != 1 || in != 4*planes {
		short = b.conv(name+".downsample", x, in, 4*planes, 1, stride, 1)
	}
	b.node("Add", name+".add", []string{y, short}, name+".add.out")
	return b.relu(name+".relu3", name+".add.out")
}

func (b *builder) node(op, name string, in []string, out string, attrs ...*onnx.Attribute) {
	b.g.Nodes = append(b.g.Nodes, &onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: []string{out}, Attrs: attrs})
}

func (b *builder) relu(name, x string) string {
	b.node("Relu", name, []string{x}, name+".out")
	return name + ".out"
}

// conv adds a k×k convolution with "same" padding whose weights are drawn
// He-uniform and then scaled and shifted by a drawn batch norm (gamma around
// gain), folded in.
func (b *builder) conv(name, x string, in, out, k, stride int, gain float64) string {
	fanIn := in * k * k
	bound := math.Sqrt(6 / float64(fanIn))
	ws, bs := stream(b.c.Seed, b.stream), stream(b.c.Seed, b.stream+1)
	b.stream += 2
	w := make([]float32, out*fanIn)
	bias := make([]float32, out)
	const eps = 1e-5
	for o := 0; o < out; o++ {
		gamma := gain * (1 + 0.1*uniform(bs, uint64(4*o)))
		beta := 0.05 * uniform(bs, uint64(4*o+1))
		mean := 0.05 * uniform(bs, uint64(4*o+2))
		variance := 1 + 0.1*(1+uniform(bs, uint64(4*o+3)))
		scale := gamma / math.Sqrt(variance+eps)
		// The float64 conversions stop the compiler fusing a multiply and an
		// add into one FMA on arm64, which rounds differently than amd64.
		bias[o] = float32(beta - float64(mean*scale))
		for i := 0; i < fanIn; i++ {
			j := o*fanIn + i
			wv := float64(float32(bound * uniform(ws, uint64(j))))
			w[j] = float32(wv * scale)
		}
	}
	p := int64(k / 2)
	dims := []int64{int64(out), int64(in), int64(k), int64(k)}
	b.g.Initializers = append(b.g.Initializers,
		onnx.FloatTensor(name+".weight", dims, w),
		onnx.FloatTensor(name+".bias", []int64{int64(out)}, bias))
	b.node("Conv", name, []string{x, name + ".weight", name + ".bias"}, name+".out",
		onnx.IntsAttr("kernel_shape", int64(k), int64(k)),
		onnx.IntsAttr("strides", int64(stride), int64(stride)),
		onnx.IntsAttr("pads", p, p, p, p),
		onnx.IntsAttr("dilations", 1, 1),
		onnx.IntAttr("group", 1))
	return name + ".out"
}

// mix is SplitMix64's output function, a bijection that spreads every input
// bit over the output.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// stream is the key of one tensor's draws: a counter-based generator needs no
// state between calls, so any tensor can be regenerated alone.
func stream(seed, s uint64) uint64 {
	return mix(seed^0x9e3779b97f4a7c15) + mix(s+0x632be59bd9b4e019)
}

// uniform is the i-th value of a stream, in [-1, 1) and exactly
// representable (a 53-bit integer times 2⁻⁵²).
func uniform(key, i uint64) float64 {
	r := mix(key + i*0x9e3779b97f4a7c15)
	return float64(int64(r>>11)-1<<52) * 0x1p-52
}
