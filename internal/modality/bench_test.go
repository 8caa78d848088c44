package modality

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A receiver under benchmark: edge modality listen, or dcmtk's storescp.
type receiver struct {
	name string
	port string
	pid  int
	stop func()
}

func freePort(b testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func startEdgeReceiver(b testing.TB, out string) receiver {
	p := startEdge(b, "modality", "listen", "--ae", testAE, "--host", "127.0.0.1", "--port", "0", "--out", out, "--max-pdu", "65536")
	return receiver{name: "edge", port: p.port(b), pid: p.cmd.Process.Pid, stop: func() { p.stop(b) }}
}

// startStorescp runs storescp; bitPreserving (+B) makes it write the data
// set to disk as it arrives, as edge does, instead of parsing it whole in
// memory first.
func startStorescp(b testing.TB, out string, bitPreserving bool) receiver {
	port := freePort(b)
	args := []string{"-aet", testAE, "-pdu", "65536", "-od", out}
	name := "storescp"
	if bitPreserving {
		args = append(args, "+B")
		name = "storescp+B"
	}
	cmd := exec.Command(needTool(b, "storescp"), append(args, port)...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			b.Fatalf("storescp did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	b.Cleanup(stop)
	return receiver{name: name, port: port, pid: cmd.Process.Pid, stop: stop}
}

func sendAll(b testing.TB, port string, files []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-pdu", "65536", "-aet", "MODALITY", "-aec", testAE, "127.0.0.1", port}, files...)
	out, err := exec.CommandContext(ctx, needTool(b, "storescu"), args...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "E: ") {
		b.Fatalf("storescu: %v\n%s", err, out)
	}
}

func emptyDir(b testing.TB, dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// BenchmarkReceive sends the same files with storescu to edge modality
// listen and to storescp (default and bit-preserving), each in every
// iteration, and reports objects/s and MB/s of each and edge's ratio to
// storescp's. edge syncs every object to disk before it answers; storescp
// does not sync.
func BenchmarkReceive(b *testing.B) {
	needTool(b, "storescu")
	for _, set := range []struct {
		name  string
		count int
		size  int
	}{
		{"16x4MB", 16, 4 << 20},
		{"200x40KB", 200, 40 << 10},
	} {
		b.Run(set.name, func(b *testing.B) {
			dir := b.TempDir()
			var files []string
			var total int64
			for i := range set.count {
				f := filepath.Join(dir, "src", fmt.Sprintf("%d.dcm", i))
				os.MkdirAll(filepath.Dir(f), 0o755)
				synthObject(b, f, secondaryCapture, fmt.Sprintf("1.2.3.20.%d", i+1), set.size)
				st, _ := os.Stat(f)
				total += st.Size()
				files = append(files, f)
			}
			outs := map[string]string{}
			var rs []receiver
			for _, name := range []string{"edge", "storescp", "storescp+B"} {
				out := filepath.Join(dir, name)
				os.MkdirAll(out, 0o755)
				outs[name] = out
				switch name {
				case "edge":
					rs = append(rs, startEdgeReceiver(b, out))
				case "storescp":
					rs = append(rs, startStorescp(b, out, false))
				default:
					rs = append(rs, startStorescp(b, out, true))
				}
			}
			elapsed := map[string]time.Duration{}
			b.ResetTimer()
			for b.Loop() {
				for _, r := range rs {
					b.StopTimer()
					emptyDir(b, outs[r.name])
					b.StartTimer()
					t0 := time.Now()
					sendAll(b, r.port, files)
					elapsed[r.name] += time.Since(t0)
				}
			}
			b.StopTimer()
			for _, r := range rs {
				sec := elapsed[r.name].Seconds() / float64(b.N)
				b.ReportMetric(float64(set.count)/sec, r.name+"_obj/s")
				b.ReportMetric(float64(total)/sec/1e6, r.name+"_MB/s")
			}
			b.ReportMetric(elapsed["storescp"].Seconds()/elapsed["edge"].Seconds(), "edge/storescp")
			b.ReportMetric(elapsed["storescp+B"].Seconds()/elapsed["edge"].Seconds(), "edge/storescp+B")
			for _, r := range rs {
				r.stop()
			}
		})
	}
}

// vmHWM is a process's peak resident set size, from /proc.
func vmHWM(b testing.TB, pid int) float64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// BenchmarkPeakRSS200MB receives one 200 MB object and reports the peak RSS
// of each receiving process (goal for edge: at most 64 MB).
func BenchmarkPeakRSS200MB(b *testing.B) {
	needTool(b, "storescu")
	dir := b.TempDir()
	f := filepath.Join(dir, "big.dcm")
	synthObject(b, f, secondaryCapture, "1.2.3.21.1", 200<<20)
	peak := map[string]float64{}
	for b.Loop() {
		for _, name := range []string{"edge", "storescp", "storescp+B"} {
			out := filepath.Join(dir, name)
			os.RemoveAll(out)
			os.MkdirAll(out, 0o755)
			var r receiver
			switch name {
			case "edge":
				r = startEdgeReceiver(b, out)
			case "storescp":
				r = startStorescp(b, out, false)
			default:
				r = startStorescp(b, out, true)
			}
			sendAll(b, r.port, []string{f})
			peak[name] = max(peak[name], vmHWM(b, r.pid))
			r.stop()
			os.RemoveAll(out)
		}
	}
	for name, v := range peak {
		b.ReportMetric(v, name+"_peakRSS_MB")
	}
}
