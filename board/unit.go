package board

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
)

// CheckUnit reports where a systemd unit disagrees with the profile: the
// binary it starts, the config it passes, the state directory it works in,
// the library directory it puts on the loader path and the groups the
// sensor's devices need. A release is packed only when they agree, so a board
// never boots a unit pointing at files the release put elsewhere.
func (p *Profile) CheckUnit(unit []byte) error {
	kv := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("board %s: unit line %q is not KEY=VALUE", p.Name, line)
		}
		kv[k] = append(kv[k], v)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("board %s: unit: %w", p.Name, err)
	}
	one := func(k string) string {
		if v := kv[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	exec := strings.Fields(one("ExecStart"))
	if len(exec) == 0 || exec[0] != p.Install.Binary {
		return fmt.Errorf("board %s: unit starts %v, the release installs the binary as %s", p.Name, exec, p.Install.Binary)
	}
	if i := slices.Index(exec, "--config"); i < 0 || i+1 >= len(exec) || exec[i+1] != p.Install.Config {
		return fmt.Errorf("board %s: unit's ExecStart %v does not pass --config %s", p.Name, exec, p.Install.Config)
	}
	if wd := one("WorkingDirectory"); wd != p.Install.State {
		return fmt.Errorf("board %s: unit works in %q, the profile's state is %s", p.Name, wd, p.Install.State)
	}
	if sd, want := one("StateDirectory"), strings.TrimPrefix(p.Install.State, "/var/lib/"); sd != want {
		return fmt.Errorf("board %s: unit's StateDirectory %q, want %q for %s", p.Name, sd, want, p.Install.State)
	}
	if p.ORTLibrary != "" {
		var ld []string
		for _, e := range kv["Environment"] {
			if v, ok := strings.CutPrefix(e, "LD_LIBRARY_PATH="); ok {
				ld = strings.Split(v, ":")
			}
		}
		if len(ld) == 0 || ld[0] != path.Dir(p.ORTLibrary) {
			return fmt.Errorf("board %s: unit's LD_LIBRARY_PATH %v does not start with %s, where the ONNX Runtime library is", p.Name, ld, path.Dir(p.ORTLibrary))
		}
	}
	groups := strings.Fields(one("SupplementaryGroups"))
	if !slices.Contains(groups, "dialout") {
		return fmt.Errorf("board %s: unit's groups %v lack dialout, which serial devices belong to", p.Name, groups)
	}
	if p.GPIO != (GPIO{}) && !slices.Contains(groups, "gpio") {
		return fmt.Errorf("board %s: the profile wires GPIO lines but the unit's groups %v lack gpio", p.Name, groups)
	}
	return nil
}
