//go:build cgo

package infer

import (
	"context"
	"fmt"
	"image"

	ort "github.com/yalue/onnxruntime_go"

	"edge/internal/infer/onnx"
	"edge/internal/infer/prep"
	"edge/internal/infer/quant"
)

// Calibrate runs the fp32 model on each print and records the value range
// of every tensor quant.Points names, by exposing them as extra outputs.
func Calibrate(ctx context.Context, rt *Runtime, m *onnx.Model, prints []image.Image, threads int) (map[string]quant.Range, error) {
	if len(prints) == 0 {
		return nil, fmt.Errorf("infer: calibration needs at least one print")
	}
	pm, err := ParseModel(m.Marshal())
	if err != nil {
		return nil, err
	}
	points, err := quant.Points(m)
	if err != nil {
		return nil, err
	}
	cm := quant.CalibrationModel(m, points)
	outs := append([]string{pm.Output}, points...)
	cfg := sessionConfig{threads: max(threads, 1), providers: []string{"cpu"}}
	sess, _, err := newSession(rt, cfg, func(o *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		return ort.NewDynamicAdvancedSessionWithONNXData(cm.Marshal(), []string{pm.Input}, outs, o)
	})
	if err != nil {
		return nil, fmt.Errorf("infer: calibration session: %w", err)
	}
	defer sess.Destroy()
	s := int64(pm.Size)
	ranges := make(map[string]quant.Range, len(points))
	for i, img := range prints {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := prep.Tensor(img, pm.Size)
		if err != nil {
			return nil, fmt.Errorf("infer: calibration print %d: %w", i, err)
		}
		in, err := ort.NewTensor(ort.NewShape(1, 3, s, s), t)
		if err != nil {
			return nil, fmt.Errorf("infer: calibration input: %w", err)
		}
		vals := make([]ort.Value, len(outs))
		err = sess.Run([]ort.Value{in}, vals)
		in.Destroy()
		if err != nil {
			return nil, fmt.Errorf("infer: calibration run on print %d: %w", i, err)
		}
		for j, v := range vals[1:] {
			ft, ok := v.(*ort.Tensor[float32])
			if !ok {
				err = fmt.Errorf("infer: calibration tensor %q is not float32", points[j])
				break
			}
			r := ranges[points[j]]
			r.Observe(ft.GetData())
			ranges[points[j]] = r
		}
		for _, v := range vals {
			if v != nil {
				v.Destroy()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return ranges, nil
}

// QuantizeModel calibrates m on prints and returns its int8 QDQ form.
func QuantizeModel(ctx context.Context, rt *Runtime, m *onnx.Model, prints []image.Image, note string, threads int) (*onnx.Model, error) {
	ranges, err := Calibrate(ctx, rt, m, prints, threads)
	if err != nil {
		return nil, err
	}
	return quant.Quantize(m, ranges, note)
}
