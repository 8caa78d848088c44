// Command pack lays out one release tarball per board profile:
// dist/edge-VERSION-BOARD.tar.gz holding the binary, the ONNX Runtime
// library for the board's architecture, the int8 model, the profile, the
// systemd unit, an example config and an install note, each where the
// profile's install paths say, so that `tar -xzf … -C /` installs it; and
// dist/SHA256SUMS over the tarballs. scripts/cross-build.sh builds the
// binaries and runs it.
//
// The bytes depend only on the inputs: entries are sorted by name, owned by
// 0:0 with no user or group names, all stamped with one given time (the
// commit's), in USTAR format, and the gzip header carries no name or time.
// Before packing, the unit is checked against the profile and each binary
// and library against the board's architecture, so a release never holds
// files that disagree with each other.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"edge/board"
)

// Inputs are the built files a release is made of.
type Inputs struct {
	Version string
	// MTime stamps every entry.
	MTime time.Time
	// Binaries maps an architecture key (ArchKey) to the edge binary for it.
	Binaries map[string]string
	// ORTDir holds linux-GOARCH/libonnxruntime.so.1 (scripts/fetch-ort.sh).
	ORTDir string
	// Model is the int8 feature model.
	Model string
}

// ArchKey names what a profile's binary is built for: the GOARCH, and for
// 32-bit ARM the GOARM too (armv7).
func ArchKey(p *board.Profile) string {
	if p.GOARCH == "arm" {
		return "armv" + p.GOARM
	}
	return p.GOARCH
}

// TarballName is the release file of one board.
func TarballName(version, boardName string) string {
	return "edge-" + version + "-" + boardName + ".tar.gz"
}

// ExampleConfig is the appliance's config as a release installs it: the
// unit's --config names it (as Install.Config; the tarball carries it with
// .example appended so an upgrade never overwrites a board's own).
type ExampleConfig struct {
	Board string `json:"board"`
	Model string `json:"model,omitempty"`
	Keys  string `json:"keys"`
	Store string `json:"store"`
}

func exampleConfig(p *board.Profile) ExampleConfig {
	return ExampleConfig{
		Board: p.Install.Profile,
		Model: p.Install.Model,
		Keys:  path.Join(p.Install.State, "keys"),
		Store: path.Join(p.Install.State, "templates"),
	}
}

// ConfigExample is where the tarball holds the example config.
func ConfigExample(p *board.Profile) string { return p.Install.Config + ".example" }

// NotePath is where the tarball holds the install note.
func NotePath(p *board.Profile) string {
	return path.Join(path.Dir(p.Install.Binary), "..", "INSTALL.txt")
}

type entry struct {
	name string // no leading slash
	mode int64
	data []byte
	file string // read from here when data is nil
	dir  bool
}

// Pack writes the tarball of one board into w.
func Pack(w io.Writer, p *board.Profile, in Inputs) error {
	raw, err := board.Raw(p.Name)
	if err != nil {
		return err
	}
	unit, err := board.Unit(p.SystemdUnit)
	if err != nil {
		return err
	}
	if err := p.CheckUnit(unit); err != nil {
		return err
	}
	bin := in.Binaries[ArchKey(p)]
	if bin == "" {
		return fmt.Errorf("pack %s: no %s binary given", p.Name, ArchKey(p))
	}
	if err := checkELF(bin, p.GOARCH); err != nil {
		return fmt.Errorf("pack %s: %w", p.Name, err)
	}
	cfg, err := json.MarshalIndent(exampleConfig(p), "", "  ")
	if err != nil {
		return err
	}
	es := []entry{
		{name: p.Install.Binary, mode: 0o755, file: bin},
		{name: p.Install.Profile, mode: 0o644, data: raw},
		{name: ConfigExample(p), mode: 0o644, data: append(cfg, '\n')},
		{name: p.Install.Unit, mode: 0o644, data: unit},
		{name: NotePath(p), mode: 0o644, data: note(p, in.Version)},
	}
	if p.ORTLibrary != "" {
		lib := filepath.Join(in.ORTDir, "linux-"+p.GOARCH, "libonnxruntime.so.1")
		if err := checkELF(lib, p.GOARCH); err != nil {
			return fmt.Errorf("pack %s: ONNX Runtime library: %w (scripts/fetch-ort.sh fetches it)", p.Name, err)
		}
		es = append(es, entry{name: p.ORTLibrary, mode: 0o644, file: lib})
	}
	if p.Install.Model != "" {
		if in.Model == "" {
			return fmt.Errorf("pack %s: no model given (make model builds it)", p.Name)
		}
		es = append(es, entry{name: p.Install.Model, mode: 0o644, file: in.Model})
	}
	return writeTar(w, es, in.MTime)
}

// writeTar writes the entries and the directories they need, sorted.
func writeTar(w io.Writer, es []entry, mtime time.Time) error {
	seen := map[string]bool{}
	var all []entry
	for _, e := range es {
		e.name = strings.TrimPrefix(path.Clean(e.name), "/")
		if seen[e.name] {
			return fmt.Errorf("pack: %s twice", e.name)
		}
		seen[e.name] = true
		all = append(all, e)
		// Directories edge owns get entries (so their mode is set); system
		// ones (etc, opt, etc/systemd/system) are left as the board has them.
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			if !seen[d+"/"] && slices.Contains(strings.Split(d, "/"), "edge") {
				seen[d+"/"] = true
				all = append(all, entry{name: d + "/", mode: 0o755, dir: true})
			}
		}
	}
	slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, e := range all {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Format: tar.FormatUSTAR}
		var f *os.File
		switch {
		case e.dir:
			h.Typeflag = tar.TypeDir
		case e.data != nil:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		default:
			if f, err = os.Open(e.file); err != nil {
				return fmt.Errorf("pack: %w", err)
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return fmt.Errorf("pack: %w", err)
			}
			h.Typeflag, h.Size = tar.TypeReg, st.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			if f != nil {
				f.Close()
			}
			return fmt.Errorf("pack: %s: %w", e.name, err)
		}
		switch {
		case f != nil:
			_, err = io.Copy(tw, f)
			f.Close()
		case e.data != nil:
			_, err = tw.Write(e.data)
		}
		if err != nil {
			return fmt.Errorf("pack: %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

var machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM}

// checkELF refuses a file that is not a Linux ELF for goarch.
func checkELF(file, goarch string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer f.Close()
	if want := machines[goarch]; f.Machine != want {
		return fmt.Errorf("%s is for %v, the board is %s (%v)", file, f.Machine, goarch, want)
	}
	return nil
}

// note is the install note, written from the profile so that every path in
// it is the one the tarball uses.
func note(p *board.Profile, version string) []byte {
	var b bytes.Buffer
	unit := path.Base(p.Install.Unit)
	fmt.Fprintf(&b, "edge %s for %s\n\n%s.\n\n", version, p.Name, p.Description)
	fmt.Fprintf(&b, "Install, as root, on the board:\n\n")
	fmt.Fprintf(&b, "  useradd --system --user-group --home-dir %s --shell /usr/sbin/nologin edge\n", p.Install.State)
	fmt.Fprintf(&b, "  tar -xzf %s -C /\n", TarballName(version, p.Name))
	fmt.Fprintf(&b, "  cp -n %s %s    # first install only; edit it for this site\n", ConfigExample(p), p.Install.Config)
	fmt.Fprintf(&b, "  systemctl daemon-reload\n\n")
	if p.ORTLibrary != "" {
		keys := path.Join(p.Install.State, "keys")
		fmt.Fprintf(&b, "Set up the site, as root (the daemon runs as edge, which must own its state):\n\n")
		fmt.Fprintf(&b, "  %s keys init --device %s --hub-pub hub.pub    # hub.pub from the hub's edge hub init\n", p.Install.Binary, keys)
		fmt.Fprintf(&b, "  %s sensor enroll --board %s --store %s --id CLINICIAN    # each clinician, at the sensor\n",
			p.Install.Binary, p.Install.Profile, path.Join(p.Install.State, "templates"))
		fmt.Fprintf(&b, "  chown -R edge:edge %s\n", p.Install.State)
		fmt.Fprintf(&b, "  # on the hub: edge hub trust --dir HUBDIR %s/device.pub\n", keys)
		fmt.Fprintf(&b, "  # in %s: \"uplink\": {\"hub\": \"https://HUB:8443\", \"pin\": \"PIN\"} (the pin edge hub init printed),\n", p.Install.Config)
		fmt.Fprintf(&b, "  # and the modality's AE title and allowed callers (internal/appliance/doc.go lists every key)\n")
		fmt.Fprintf(&b, "  systemctl enable --now %s\n\n", path.Base(p.Install.Unit))
	}
	fmt.Fprintf(&b, "Check the board (each reads the installed profile %s):\n\n", p.Install.Profile)
	if p.ORTLibrary != "" {
		fmt.Fprintf(&b, "  %s infer info --board %s\n", p.Install.Binary, p.Install.Profile)
	}
	fmt.Fprintf(&b, "  %s sensor info --board %s\n\n", p.Install.Binary, p.Install.Profile)
	fmt.Fprintf(&b, "Files:\n\n")
	fmt.Fprintf(&b, "  %-44s the binary (linux/%s)\n", p.Install.Binary, ArchKey(p))
	if p.ORTLibrary != "" {
		fmt.Fprintf(&b, "  %-44s ONNX Runtime; execution providers tried in order: %s\n", p.ORTLibrary, strings.Join(p.ExecutionProviders, ", "))
		fmt.Fprintf(&b, "  %-44s the int8 feature model\n", p.Install.Model)
	}
	fmt.Fprintf(&b, "  %-44s the board profile (serial %s at %d baud, image limits %d samples / %d bytes)\n",
		p.Install.Profile, orUSB(p.Serial.Port), p.Serial.Baud, p.Images.MaxSamples, p.Images.MaxBytes)
	fmt.Fprintf(&b, "  %-44s example config (%s names it)\n", ConfigExample(p), unit)
	fmt.Fprintf(&b, "  %-44s the systemd unit\n", p.Install.Unit)
	fmt.Fprintf(&b, "  %-44s keys, templates and the outbox (the unit's StateDirectory, mode 0700)\n\n", p.Install.State)
	if p.ORTLibrary == "" {
		fmt.Fprintf(&b, "Features: this board has no ONNX Runtime, so it extracts none. edge features, enroll,\n"+
			"verify, identify and sensor login stop with an error saying so; images are sealed with\n"+
			"a feature file made on a 64-bit board (edge protect --features F.f32), or with an ONNX\n"+
			"Runtime built for this board given as --ort-lib.\n\n")
	}
	if p.ORTLibrary == "" {
		fmt.Fprintf(&b, "%s runs the appliance daemon (edge run --config %s), which logs clinicians in\n"+
			"by their prints and so needs features: on this board it stops at once with status 78, which the\n"+
			"unit does not restart. Leave %s disabled.\n", unit, p.Install.Config, unit)
	} else {
		fmt.Fprintf(&b, "%s runs the appliance daemon (edge run --config %s). Until a clinician is enrolled\n"+
			"nobody can log in, and images from the modality are held until someone does.\n", unit, p.Install.Config)
	}
	return b.Bytes()
}

func orUSB(port string) string {
	if port == "" {
		return "on the first USB adapter that answers"
	}
	return port
}

// WriteSums writes SHA256SUMS over the named files in dir, in name order, in
// the format sha256sum -c reads.
func WriteSums(dir string, names []string) error {
	names = slices.Sorted(slices.Values(names))
	var b bytes.Buffer
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("pack: %s: %w", n, err)
		}
		fmt.Fprintf(&b, "%x  %s\n", h.Sum(nil), n)
	}
	return writeAtomic(filepath.Join(dir, "SHA256SUMS"), func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	})
}

// writeAtomic writes a file under a temporary name and renames it, so a
// failed or interrupted run leaves no half tarball under the real name.
func writeAtomic(name string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".pack-*")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("pack: %s: %w", name, err)
	}
	return nil
}

// packAll packs every named board into dir and writes SHA256SUMS.
func packAll(dir string, names []string, in Inputs) ([]string, error) {
	if in.Version == "" || strings.ContainsAny(in.Version, "/ \t\n") {
		return nil, fmt.Errorf("pack: version %q: want a non-empty word", in.Version)
	}
	var out []string
	for _, n := range names {
		if strings.ContainsRune(n, os.PathSeparator) || strings.HasSuffix(n, ".json") {
			return nil, errors.New("pack: only built-in boards are released")
		}
		p, err := board.Load(n)
		if err != nil {
			return nil, err
		}
		name := TarballName(in.Version, p.Name)
		if err := writeAtomic(filepath.Join(dir, name), func(w io.Writer) error { return Pack(w, p, in) }); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, WriteSums(dir, out)
}
