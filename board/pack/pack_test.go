package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"edge/board"
)

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTarball reads a release tarball whole; release tarballs are a few
// hundred megabytes at most.
func readTarball(t *testing.T, r io.Reader) (map[string]tarEntry, []string) {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	m := map[string]tarEntry{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		m[h.Name] = tarEntry{h, b}
		order = append(order, h.Name)
	}
	return m, order
}

// ortNames are ONNX Runtime's names for the providers the profiles list.
var ortNames = map[string]string{
	"cpu": "CPUExecutionProvider", "xnnpack": "XnnpackExecutionProvider", "cuda": "CUDAExecutionProvider",
	"tensorrt": "TensorrtExecutionProvider", "openvino": "OpenVINOExecutionProvider",
}

// checkTarball checks what a board's tarball holds against its profile.
func checkTarball(t *testing.T, p *board.Profile, m map[string]tarEntry, order []string, mtime time.Time) {
	t.Helper()
	get := func(abs string) (tarEntry, bool) {
		e, ok := m[strings.TrimPrefix(abs, "/")]
		if !ok {
			t.Errorf("%s: no %s in the tarball", p.Name, abs)
		}
		return e, ok
	}
	if !slices.IsSorted(order) {
		t.Errorf("%s: entries not sorted: %v", p.Name, order)
	}
	for _, n := range order {
		h := m[n].hdr
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(mtime) {
			t.Errorf("%s: %s owned %d:%d (%q:%q) at %v", p.Name, n, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if h.Typeflag == tar.TypeDir && !strings.Contains(n, "edge") {
			t.Errorf("%s: entry for the system folder %s", p.Name, n)
		}
	}
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM}[p.GOARCH]
	isELF := func(what string, e tarEntry) {
		f, err := elf.NewFile(bytes.NewReader(e.data))
		if err != nil {
			t.Errorf("%s: %s: %v", p.Name, what, err)
			return
		}
		if f.Machine != machine {
			t.Errorf("%s: %s is %v, want %v", p.Name, what, f.Machine, machine)
		}
	}
	if e, ok := get(p.Install.Binary); ok {
		isELF("binary", e)
		if e.hdr.Mode != 0o755 {
			t.Errorf("%s: binary mode %o", p.Name, e.hdr.Mode)
		}
	}
	// The library is where the profile says, for the board's architecture,
	// and knows every provider the profile lists.
	libs := 0
	for n := range m {
		if strings.HasPrefix(path.Base(n), "libonnxruntime") {
			libs++
		}
	}
	if p.ORTLibrary == "" {
		if libs != 0 || p.Install.Model != "" {
			t.Errorf("%s: no runtime, yet %d libraries and model %q", p.Name, libs, p.Install.Model)
		}
	} else if e, ok := get(p.ORTLibrary); ok {
		if libs != 1 {
			t.Errorf("%s: %d ONNX Runtime libraries", p.Name, libs)
		}
		isELF("ONNX Runtime library", e)
		for _, ep := range p.ExecutionProviders {
			if name := ortNames[ep]; name == "" || !bytes.Contains(e.data, []byte(name)) {
				t.Errorf("%s: provider %s (%q) unknown to the library", p.Name, ep, name)
			}
		}
	}
	raw, _ := board.Raw(p.Name)
	if e, ok := get(p.Install.Profile); ok {
		if !bytes.Equal(e.data, raw) {
			t.Errorf("%s: the profile in the tarball is not the built-in one", p.Name)
		}
		q, err := board.Parse(e.data)
		if err != nil || q.ORTLibrary != p.ORTLibrary || !slices.Equal(q.ExecutionProviders, p.ExecutionProviders) {
			t.Errorf("%s: tarball profile %+v, %v", p.Name, q, err)
		}
	}
	unit, _ := board.Unit(p.SystemdUnit)
	if e, ok := get(p.Install.Unit); ok {
		if !bytes.Equal(e.data, unit) {
			t.Errorf("%s: unit in the tarball is not %s", p.Name, p.SystemdUnit)
		}
		if err := p.CheckUnit(e.data); err != nil {
			t.Error(err)
		}
	}
	if e, ok := get(ConfigExample(p)); ok {
		d := json.NewDecoder(bytes.NewReader(e.data))
		d.DisallowUnknownFields()
		var c ExampleConfig
		if err := d.Decode(&c); err != nil {
			t.Errorf("%s: example config: %v", p.Name, err)
		}
		if c.Board != p.Install.Profile || c.Model != p.Install.Model {
			t.Errorf("%s: example config %+v names other files than the tarball installs", p.Name, c)
		}
		get(c.Board)
		if c.Model != "" {
			get(c.Model)
		}
		for _, d := range []string{c.Keys, c.Store} {
			if !strings.HasPrefix(d, p.Install.State+"/") {
				t.Errorf("%s: %s is outside the state folder %s the unit may write", p.Name, d, p.Install.State)
			}
		}
	}
	if e, ok := get(NotePath(p)); ok {
		for _, s := range []string{p.Install.Binary, p.Install.Profile, p.Install.Config, ConfigExample(p), p.Install.Unit, p.ORTLibrary, p.Install.Model} {
			if s != "" && !bytes.Contains(e.data, []byte(s)) {
				t.Errorf("%s: the install note does not mention %s", p.Name, s)
			}
		}
		if p.ORTLibrary == "" && !bytes.Contains(e.data, []byte("--features")) {
			t.Errorf("%s: the note does not say how a board without a runtime gets features", p.Name)
		}
	}
}

// fakeELF writes the header of an ELF file for machine: enough for the
// architecture checks, nothing to run.
func fakeELF(t *testing.T, dir, name string, m elf.Machine, class elf.Class) string {
	t.Helper()
	var b bytes.Buffer
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	if class == elf.ELFCLASS64 {
		binary.Write(&b, binary.LittleEndian, elf.Header64{Ident: ident, Type: uint16(elf.ET_DYN), Machine: uint16(m), Version: 1, Ehsize: 64})
	} else {
		binary.Write(&b, binary.LittleEndian, elf.Header32{Ident: ident, Type: uint16(elf.ET_DYN), Machine: uint16(m), Version: 1, Ehsize: 52})
	}
	b.WriteString(name) // so each file differs
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func fakeInputs(t *testing.T) Inputs {
	dir := t.TempDir()
	for _, a := range []string{"amd64", "arm64"} {
		if err := os.MkdirAll(filepath.Join(dir, "ort", "linux-"+a), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The library stand-ins carry the provider names a real build lists.
	withNames := func(p string) {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ortNames {
			fmt.Fprintf(f, "%s\x00", n)
		}
		f.Close()
	}
	withNames(fakeELF(t, filepath.Join(dir, "ort", "linux-amd64"), "libonnxruntime.so.1", elf.EM_X86_64, elf.ELFCLASS64))
	withNames(fakeELF(t, filepath.Join(dir, "ort", "linux-arm64"), "libonnxruntime.so.1", elf.EM_AARCH64, elf.ELFCLASS64))
	model := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(model, []byte("model bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Inputs{
		Version: "1.2.3", MTime: time.Unix(1764547200, 0), ORTDir: filepath.Join(dir, "ort"), Model: model,
		Binaries: map[string]string{
			"amd64": fakeELF(t, dir, "edge-amd64", elf.EM_X86_64, elf.ELFCLASS64),
			"arm64": fakeELF(t, dir, "edge-arm64", elf.EM_AARCH64, elf.ELFCLASS64),
			"armv7": fakeELF(t, dir, "edge-armv7", elf.EM_ARM, elf.ELFCLASS32),
		},
	}
}

func TestPackEveryBoardTwiceGivesTheSameBytes(t *testing.T) {
	in := fakeInputs(t)
	a, b := t.TempDir(), t.TempDir()
	names, err := packAll(a, board.Names(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := packAll(b, board.Names(), in); err != nil {
		t.Fatal(err)
	}
	if len(names) != len(board.Names()) {
		t.Fatalf("packed %v", names)
	}
	for _, n := range append(names, "SHA256SUMS") {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(b, n))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", n)
		}
	}
	for _, bn := range board.Names() {
		p, _ := board.Load(bn)
		f, err := os.Open(filepath.Join(a, TarballName(in.Version, bn)))
		if err != nil {
			t.Fatal(err)
		}
		m, order := readTarball(t, f)
		f.Close()
		checkTarball(t, p, m, order, in.MTime)
		bin, _ := os.ReadFile(in.Binaries[ArchKey(p)])
		if !bytes.Equal(m[strings.TrimPrefix(p.Install.Binary, "/")].data, bin) {
			t.Errorf("%s: packed the wrong binary", bn)
		}
	}
	verifySums(t, a)
}

func verifySums(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, h, sum)
		}
		n++
	}
	return n
}

func TestPackRefusesFilesThatDisagree(t *testing.T) {
	p, err := board.Load("rpi5")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		change func(*Inputs)
		want   string
	}{
		"amd64 binary for arm64": {func(in *Inputs) { in.Binaries["arm64"] = in.Binaries["amd64"] }, "EM_X86_64"},
		"no binary":              {func(in *Inputs) { delete(in.Binaries, "arm64") }, "no arm64 binary"},
		"not an ELF":             {func(in *Inputs) { in.Binaries["arm64"] = in.Model }, "model.onnx"},
		"no library":             {func(in *Inputs) { in.ORTDir = t.TempDir() }, "fetch-ort"},
		"no model":               {func(in *Inputs) { in.Model = "" }, "make model"},
		"missing model":          {func(in *Inputs) { in.Model = "/nonexistent/model.onnx" }, "/nonexistent/model.onnx"},
	} {
		in := fakeInputs(t)
		c.change(&in)
		err := Pack(io.Discard, p, in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, v := range []string{"", "a/b", "two words"} {
		in := fakeInputs(t)
		in.Version = v
		if _, err := packAll(t.TempDir(), []string{"rpi5"}, in); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
	if _, err := packAll(t.TempDir(), []string{"/tmp/mine.json"}, fakeInputs(t)); err == nil {
		t.Error("packed a profile file")
	}
}

// TestDistTarballs checks the tarballs make cross built, one per built-in
// profile, against their profiles and SHA256SUMS. scripts/cross-test.sh runs
// it after make cross and fails when it skips.
func TestDistTarballs(t *testing.T) {
	dir, sums := release(t)
	if n := verifySums(t, dir); n != len(board.Names()) {
		t.Errorf("SHA256SUMS lists %d tarballs, there are %d boards", n, len(board.Names()))
	}
	ort := filepath.Join("..", "..", "third_party", "onnxruntime")
	for _, bn := range board.Names() {
		p, _ := board.Load(bn)
		file := tarballOf(sums, bn)
		if file == "" {
			t.Errorf("%s: no tarball in SHA256SUMS", bn)
			continue
		}
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		m, order := readTarball(t, f)
		f.Close()
		var mtime time.Time
		if len(order) > 0 {
			mtime = m[order[0]].hdr.ModTime
		}
		checkTarball(t, p, m, order, mtime)
		if p.ORTLibrary != "" {
			if want, err := os.ReadFile(filepath.Join(ort, "linux-"+p.GOARCH, "libonnxruntime.so.1")); err == nil &&
				!bytes.Equal(m[strings.TrimPrefix(p.ORTLibrary, "/")].data, want) {
				t.Errorf("%s: the library is not the fetched linux-%s one", bn, p.GOARCH)
			}
		}
		if p.Install.Model != "" {
			if want, err := os.ReadFile(filepath.Join("..", "..", "models", "resnet152-int8.onnx")); err == nil &&
				!bytes.Equal(m[strings.TrimPrefix(p.Install.Model, "/")].data, want) {
				t.Errorf("%s: the model is not models/resnet152-int8.onnx", bn)
			}
		}
	}
}
