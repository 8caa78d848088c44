// Package resnet writes a ResNet as an ONNX model from Go: the torchvision
// v1.5 bottleneck topology (stride on the 3×3 convolution), a 7×7/2 stem and
// 3×3/2 max pool, four stages, global average pooling and no classifier, so
// the output is the pooled feature vector. ResNet152 is stages [3, 8, 36, 3]
// at width 64: 155 convolutions, 50 residual additions, 2048 features for a
// 1×3×224×224 input.
//
// No trained weights can be shipped with the appliance's build, so weights
// are drawn from a seed: He-uniform convolution weights and batch-norm
// statistics from a counter-based generator (SplitMix64 of a per-tensor key and the
// element index), then batch norm folded into each convolution's weight and
// bias. Only integer arithmetic and single correctly rounded float64
// operations are used, so the same seed gives the same bytes on every
// architecture. The last batch norm of each residual branch starts with a
// small scale (0.2) so the untrained residual stream stays within a few
// times its input's magnitude across 50 blocks instead of doubling at each.
package resnet
