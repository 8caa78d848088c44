package biometric

import (
	"edge/internal/biometric/roc"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
)

// Plot geometry in pixels: a square plot area with room for the title above
// and the tick labels and axis names below and to the left.
const (
	plotW, plotH = 660, 660
	plotLeft     = 100
	plotTop      = 70
	plotSize     = 520
	plotBottom   = plotTop + plotSize
	plotRight    = plotLeft + plotSize
	textScale    = 2
)

var (
	colInk    = color.RGBA{0, 0, 0, 255}
	colGrid   = color.RGBA{225, 225, 225, 255}
	colChance = color.RGBA{150, 150, 150, 255}
	colEERRef = color.RGBA{240, 160, 160, 255}
	colCurve  = color.RGBA{0, 70, 200, 255}
	colEER    = color.RGBA{210, 0, 0, 255}
	colOp     = color.RGBA{0, 150, 60, 255}
)

// PlotROC draws the report's ROC curve (TPR against FAR, both linear from 0
// to 1) with the chance diagonal, the FAR = FRR line, the EER point (red)
// and the operating point (green, when it is not the EER point).
func PlotROC(r *Report) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i := 0; i <= 10; i++ {
		d := i * plotSize / 10
		line(img, plotLeft+d, plotTop, plotLeft+d, plotBottom, colGrid, 1, 0)
		line(img, plotLeft, plotBottom-d, plotRight, plotBottom-d, colGrid, 1, 0)
	}
	line(img, plotLeft, plotBottom, plotRight, plotTop, colChance, 1, 6)
	line(img, plotLeft, plotTop, plotRight, plotBottom, colEERRef, 1, 6)
	for i := 0; i <= 5; i++ {
		d := i * plotSize / 5
		label := fmt.Sprintf("%.1f", float64(i)/5)
		line(img, plotLeft+d, plotBottom, plotLeft+d, plotBottom+6, colInk, 1, 0)
		text(img, plotLeft+d-textWidth(label)/2, plotBottom+14, label, colInk, false)
		line(img, plotLeft-6, plotBottom-d, plotLeft, plotBottom-d, colInk, 1, 0)
		text(img, plotLeft-12-textWidth(label), plotBottom-d-glyphH*textScale/2, label, colInk, false)
	}
	rect(img, plotLeft, plotTop, plotRight, plotBottom, colInk)
	xl := "FALSE ACCEPT RATE (FAR)"
	text(img, plotLeft+(plotSize-textWidth(xl))/2, plotBottom+44, xl, colInk, false)
	yl := "TRUE ACCEPT RATE (1 - FRR)"
	text(img, 18, plotTop+(plotSize+textWidth(yl))/2, yl, colInk, true)
	title := fmt.Sprintf("ROC: EER %.1f%% AT %.4f, AUC %.3f", 100*r.EER, r.EERPoint.Threshold, r.AUC)
	text(img, (plotW-textWidth(title))/2, 16, title, colInk, false)
	sub := fmt.Sprintf("%d GENUINE, %d IMPOSTOR SCORES", len(r.Genuine), len(r.Impostor))
	if r.Enroll > 0 {
		sub += fmt.Sprintf(", %d ENROLLED EACH", r.Enroll)
	}
	text(img, (plotW-textWidth(sub))/2, 16+glyphH*textScale+8, sub, colInk, false)

	for i := 1; i < len(r.ROC); i++ {
		x0, y0 := toPlot(r.ROC[i-1])
		x1, y1 := toPlot(r.ROC[i])
		line(img, x0, y0, x1, y1, colCurve, 3, 0)
	}
	if r.Operating != r.EERPoint {
		x, y := toPlot(r.Operating)
		fill(img, x-4, y-4, x+5, y+5, colOp)
	}
	x, y := toPlot(r.EERPoint)
	fill(img, x-4, y-4, x+5, y+5, colEER)

	// The legend sits in the lower right, where a useful curve never goes.
	lx, ly := plotRight-textWidth("OPERATING POINT")-30, plotBottom-30
	if r.Operating != r.EERPoint {
		fill(img, lx, ly+3, lx+9, ly+12, colOp)
		text(img, lx+16, ly, "OPERATING POINT", colInk, false)
		ly -= 24
	}
	fill(img, lx, ly+3, lx+9, ly+12, colEER)
	text(img, lx+16, ly, "EER POINT", colInk, false)
	return img
}

// WritePNG encodes the ROC plot of r.
func WritePNG(w io.Writer, r *Report) error {
	if err := png.Encode(w, PlotROC(r)); err != nil {
		return fmt.Errorf("biometric: encode ROC plot: %w", err)
	}
	return nil
}

// toPlot maps an operating point to pixels. The product is rounded on its own
// (the conversion stops a fused multiply-add) so the pixels are the same on
// every architecture.
func toPlot(p roc.Point) (int, int) {
	x := int(math.Round(float64(p.FAR * plotSize)))
	y := int(math.Round(float64(p.TPR * plotSize)))
	return plotLeft + x, plotBottom - y
}

// line draws from (x0,y0) to (x1,y1) with Bresenham's algorithm, a square
// brush of width w, and dashes of length dash (0: solid).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, w, dash int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for n := 0; ; n++ {
		if dash == 0 || (n/dash)%2 == 0 {
			fill(img, x0-(w-1)/2, y0-(w-1)/2, x0+w/2+1, y0+w/2+1, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	line(img, x0, y0, x1, y0, c, 1, 0)
	line(img, x1, y0, x1, y1, c, 1, 0)
	line(img, x1, y1, x0, y1, c, 1, 0)
	line(img, x0, y1, x0, y0, c, 1, 0)
}

// fill paints [x0,x1)×[y0,y1), clipped to the image.
func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	r := image.Rect(x0, y0, x1, y1).Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func textWidth(s string) int { return len([]rune(s)) * glyphAdvance * textScale }

// text draws s with its top-left corner at (x, y); vertical text runs bottom
// to top with its baseline on the right, starting at (x, y).
func text(img *image.RGBA, x, y int, s string, c color.RGBA, vertical bool) {
	for i, r := range []rune(s) {
		for gy := 0; gy < glyphH; gy++ {
			for gx := 0; gx < glyphW; gx++ {
				if !glyphInk(r, gx, gy) {
					continue
				}
				px := (i*glyphAdvance + gx) * textScale
				py := gy * textScale
				if vertical {
					fill(img, x+py, y-px-textScale, x+py+textScale, y-px, c)
				} else {
					fill(img, x+px, y+py, x+px+textScale, y+py+textScale, c)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
