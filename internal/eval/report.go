package eval

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Summary averages one scheme over every image.
type Summary struct {
	Scheme         string  `json:"scheme"`
	Images         int     `json:"images"`
	Failed         int     `json:"failed"`
	Exact          int     `json:"exact"`
	MeanPSNR       float64 `json:"mean_psnr_db"`
	MinPSNR        float64 `json:"min_psnr_db"`
	MeanSSIM       float64 `json:"mean_ssim"`
	MinSSIM        float64 `json:"min_ssim"`
	MeanBER        float64 `json:"mean_ber"`
	MeanNC         float64 `json:"mean_nc"`
	MeanSaving     float64 `json:"mean_saving_percent"`
	BelowPNG       int     `json:"smaller_than_png"`
	MeanVsJPEGLS   float64 `json:"mean_ratio_to_jpegls,omitempty"`
	JPEGLSImages   int     `json:"jpegls_images"`
	MeanVsJXL      float64 `json:"mean_ratio_to_jxl,omitempty"`
	JXLImages      int     `json:"jxl_images"`
	MeanEntropy    float64 `json:"mean_body_entropy"`
	MeanNPCR       float64 `json:"mean_npcr_percent"`
	MeanUACI       float64 `json:"mean_uaci_percent"`
	MeanKeySens    float64 `json:"mean_key_sensitivity_percent"`
	WrongKeyAlways bool    `json:"wrong_key_always_rejected"`
}

// Summarise averages every scheme's results.
func Summarise(rs []*ImageResult) []Summary {
	var out []Summary
	index := map[string]int{}
	for _, r := range rs {
		for _, s := range r.Schemes {
			i, ok := index[s.Scheme]
			if !ok {
				i = len(out)
				index[s.Scheme] = i
				out = append(out, Summary{Scheme: s.Scheme, MinPSNR: math.Inf(1), MinSSIM: math.Inf(1), WrongKeyAlways: true})
			}
			m := &out[i]
			m.Images++
			if s.Error != "" {
				m.Failed++
				continue
			}
			if s.Exact {
				m.Exact++
			}
			m.MeanPSNR += s.PSNR
			m.MinPSNR = math.Min(m.MinPSNR, s.PSNR)
			m.MeanSSIM += s.SSIM
			m.MinSSIM = math.Min(m.MinSSIM, s.SSIM)
			m.MeanBER += s.BER
			m.MeanNC += s.NC
			m.MeanSaving += s.SavingPercent
			if r.PNGBytes > 0 && s.BodyBytes < r.PNGBytes {
				m.BelowPNG++
			}
			if r.JPEGLSBytes > 0 {
				m.MeanVsJPEGLS += float64(s.BodyBytes) / float64(r.JPEGLSBytes)
				m.JPEGLSImages++
			}
			if r.JXLBytes > 0 {
				m.MeanVsJXL += float64(s.BodyBytes) / float64(r.JXLBytes)
				m.JXLImages++
			}
			m.MeanEntropy += s.BodyEntropy
			m.MeanNPCR += s.NPCR
			m.MeanUACI += s.UACI
			m.MeanKeySens += s.KeySensitivity
			m.WrongKeyAlways = m.WrongKeyAlways && s.WrongKeyRejected
		}
	}
	for i := range out {
		m := &out[i]
		n := float64(m.Images - m.Failed)
		if n == 0 {
			continue
		}
		m.MeanPSNR /= n
		m.MeanSSIM /= n
		m.MeanBER /= n
		m.MeanNC /= n
		m.MeanSaving /= n
		m.MeanEntropy /= n
		m.MeanNPCR /= n
		m.MeanUACI /= n
		m.MeanKeySens /= n
		if m.JXLImages > 0 {
			m.MeanVsJXL /= float64(m.JXLImages)
		}
		if m.JPEGLSImages > 0 {
			m.MeanVsJPEGLS /= float64(m.JPEGLSImages)
		}
	}
	return out
}

// WriteMarkdown writes the tables: the publication's quality table, the
// compression comparison and the cipher statistics, each per image with the
// averages below.
func WriteMarkdown(w io.Writer, rs []*ImageResult, sums []Summary) error {
	var b strings.Builder
	b.WriteString("## Quality, integrity and restore\n\n")
	b.WriteString("Mark: *self* when the marked image alone restores the original, *sealed N B* when N bytes of restore record travel in the envelope's seal (internal/embed).\n\n")
	b.WriteString("| image | size | bits | scheme | PSNR dB | SSIM | BER | NC | saving % | exact | mark |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, s := range r.Schemes {
			if s.Error != "" {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | failed: %s ||||||||\n", r.Name, geometry(r), bits(r), s.Scheme, s.Error)
				continue
			}
			mark := "self"
			if s.RestoreBytes > 0 {
				mark = fmt.Sprintf("sealed %d B", s.RestoreBytes)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %.6f | %g | %g | %.1f | %v | %s |\n",
				r.Name, geometry(r), bits(r), s.Scheme, s.PSNR, s.SSIM, s.BER, s.NC, s.SavingPercent, s.Exact, mark)
		}
	}
	for _, m := range sums {
		fmt.Fprintf(&b, "| **mean** (%d images) | | | %s | %.2f (min %.2f) | %.6f (min %.6f) | %g | %g | %.1f | %d/%d | |\n",
			m.Images, m.Scheme, m.MeanPSNR, m.MinPSNR, m.MeanSSIM, m.MinSSIM, m.MeanBER, m.MeanNC, m.MeanSaving, m.Exact, m.Images)
	}
	b.WriteString("\n## Compression of the pixels (bytes)\n\n")
	b.WriteString("PNG: Go's encoder at best compression. JPEG-LS: dcmtk's dcmcjpls, lossless, size of the compressed pixel fragments. JPEG XL: libjxl's cjxl -d 0 -e 7, size of the file. Body: the compressed, encrypted marked pixels inside the envelope.\n\n")
	b.WriteString("| image | raw | PNG best | JPEG-LS | JPEG XL |")
	for _, m := range sums {
		fmt.Fprintf(&b, " %s body | %s / PNG | %s / JPEG-LS | %s / JPEG XL |", m.Scheme, m.Scheme, m.Scheme, m.Scheme)
	}
	b.WriteString("\n|---|---|---|---|---|" + strings.Repeat("---|---|---|---|", len(sums)) + "\n")
	for _, r := range rs {
		jls, jxl := "n/a", "n/a"
		if r.JPEGLSBytes > 0 {
			jls = fmt.Sprint(r.JPEGLSBytes)
		}
		if r.JXLBytes > 0 {
			jxl = fmt.Sprint(r.JXLBytes)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s |", r.Name, r.RawBytes, r.PNGBytes, jls, jxl)
		for _, m := range sums {
			s := find(r, m.Scheme)
			if s == nil || s.Error != "" {
				b.WriteString(" – | – | – | – |")
				continue
			}
			fmt.Fprintf(&b, " %d | %s | %s | %s |", s.BodyBytes, ratio(s.BodyBytes, r.PNGBytes), ratio(s.BodyBytes, r.JPEGLSBytes), ratio(s.BodyBytes, r.JXLBytes))
		}
		b.WriteString("\n")
	}
	for _, m := range sums {
		fmt.Fprintf(&b, "\n%s: smaller than PNG on %d of %d images; mean body / JPEG-LS = %.3f over %d images; mean body / JPEG XL = %.3f over %d images; mean saving %.1f %%.\n",
			m.Scheme, m.BelowPNG, m.Images-m.Failed, m.MeanVsJPEGLS, m.JPEGLSImages, m.MeanVsJXL, m.JXLImages, m.MeanSaving)
	}
	b.WriteString("\n## Cipher\n\n")
	b.WriteString("Measured with a fixed K_bio per image, so the cipher layer is seen alone (every real envelope also draws a fresh salt). NPCR/UACI: one sample of the plain image changed by one level; v1 compares the encrypted bodies byte by byte, paper compares the permuted (encrypted) images sample by sample. Key sensitivity: share of the ciphertext that changes when one bit of K_bio flips. Correlation: adjacent samples, plain image → paper's encrypted image.\n\n")
	b.WriteString("| image | scheme | body entropy (bits/byte) | NPCR % | UACI % | key sensitivity % | wrong key rejected | correlation H / V / D |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, s := range r.Schemes {
			if s.Error != "" {
				continue
			}
			corr := fmt.Sprintf("plain %.3f / %.3f / %.3f", r.Plain.H, r.Plain.V, r.Plain.D)
			if s.Cipher != nil {
				corr += fmt.Sprintf(" → %.4f / %.4f / %.4f", s.Cipher.H, s.Cipher.V, s.Cipher.D)
			}
			fmt.Fprintf(&b, "| %s | %s | %.4f | %.2f | %.2f | %.2f | %v | %s |\n",
				r.Name, s.Scheme, s.BodyEntropy, s.NPCR, s.UACI, s.KeySensitivity, s.WrongKeyRejected, corr)
		}
	}
	for _, m := range sums {
		fmt.Fprintf(&b, "| **mean** | %s | %.4f | %.2f | %.2f | %.2f | %v | |\n", m.Scheme, m.MeanEntropy, m.MeanNPCR, m.MeanUACI, m.MeanKeySens, m.WrongKeyAlways)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func find(r *ImageResult, scheme string) *SchemeResult {
	for _, s := range r.Schemes {
		if s.Scheme == scheme {
			return s
		}
	}
	return nil
}

func ratio(a, b int) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", float64(a)/float64(b))
}

func geometry(r *ImageResult) string {
	g := fmt.Sprintf("%d×%d", r.Width, r.Height)
	if r.Channels == 3 {
		g += " RGB"
	}
	if r.Frames > 1 {
		g += fmt.Sprintf("×%d", r.Frames)
	}
	return g
}

func bits(r *ImageResult) string {
	if r.Signed {
		return fmt.Sprintf("%d s", r.BitsStored)
	}
	return fmt.Sprint(r.BitsStored)
}
