// Package quant turns an fp32 ResNet-like ONNX model into an int8 one in QDQ
// form, which ONNX Runtime fuses into integer kernels (QLinearConv,
// QLinearAdd, uint8 MaxPool).
//
// The rewrite, for any graph of Conv, Relu, Add, MaxPool, GlobalAveragePool,
// Flatten and similar ops (a torchvision ResNet exported without its
// classifier, or the one package resnet writes):
//
//   - every Conv weight becomes an int8 initializer with one symmetric scale
//     per output channel (axis 0, zero point 0, values in [-63, 63]: 7 bits, so
//     x86 kernels without VNNI cannot saturate; see weightMax) behind
//     a DequantizeLinear; its bias becomes int32 with scale
//     input scale × weight scale, as the integer kernels require;
//   - every activation that a Conv, a two-input Add, a MaxPool or a
//     GlobalAveragePool reads is quantized to uint8 (asymmetric, from the
//     calibrated range widened to include 0) by a QuantizeLinear /
//     DequantizeLinear pair that those readers are rewired to;
//   - a Relu that follows a Conv or Add and feeds only such readers is
//     removed: quantizing the Conv or Add output with zero point 0 clamps
//     negatives to 0, which is what the Relu did;
//   - a MaxPool's output reuses its input's scale and zero point (the max of
//     quantized values is the quantized max), so it needs no calibration.
//
// Calibration is not done here: Points names the tensors whose ranges are
// needed, CalibrationModel exposes them as graph outputs so a runtime can
// measure them over sample prints, and Quantize takes the measured ranges.
package quant
