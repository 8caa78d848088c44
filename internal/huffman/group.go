package huffman

// Version 3 lets neighbouring residual classes share a code table: on a
// small stripe, a class with a handful of symbols costs more to describe
// than its own code saves. The encoder merges adjacent classes greedily,
// always the pair whose merging saves the most bits, while any merge saves;
// the stream carries the grouping as one bit per class after the first.

// tableCost is the number of bits a table built for h takes, description
// and codes of the counted symbols (extra bits do not depend on the table).
func (b *builder) tableCost(t *encTable, h []uint64) int64 {
	b.build(t, h)
	n := tableBits(t, h)
	for s, c := range h {
		n += int64(c) * int64(t.len[s])
	}
	return n
}

// groupClasses sets s.group, the table each residual class uses, from the
// counted histograms, and builds s.ghist, the histograms of the groups.
func (s *sink) groupClasses() {
	const nc = numClasses
	// Groups are runs of classes [start[g], start[g+1]); each holds its
	// merged histogram and cost.
	type grp struct {
		hist []uint64
		cost int64
	}
	var gs [nc]grp
	var scratch encTable
	for c := range nc {
		gs[c].hist = append(s.ghist[c][:0], s.hist[tabReg+c]...)
		gs[c].cost = s.b.tableCost(&scratch, gs[c].hist)
	}
	n := nc
	// pair[i] is the cost of gs[i] and gs[i+1] merged.
	var pair [nc]int64
	s.merged = resize(s.merged, len(s.hist[tabReg]))
	merged := s.merged
	pairCost := func(i int) int64 {
		for k := range merged {
			merged[k] = gs[i].hist[k] + gs[i+1].hist[k]
		}
		return s.b.tableCost(&scratch, merged)
	}
	for i := 0; i < n-1; i++ {
		pair[i] = pairCost(i)
	}
	var first [nc]int // first class of each group
	for c := range first {
		first[c] = c
	}
	for n > 1 {
		best, saving := -1, int64(0)
		for i := 0; i < n-1; i++ {
			if sv := gs[i].cost + gs[i+1].cost - pair[i]; sv > saving {
				best, saving = i, sv
			}
		}
		if best < 0 {
			break
		}
		for k := range gs[best].hist {
			gs[best].hist[k] += gs[best+1].hist[k]
		}
		gs[best].cost = pair[best]
		// Close the gap: the histogram slices rotate so none is lost.
		freed := gs[best+1].hist
		copy(gs[best+1:n], gs[best+2:n])
		copy(first[best+1:n], first[best+2:n])
		copy(pair[best+1:n-1], pair[best+2:n])
		n--
		gs[n].hist = freed
		if best > 0 {
			pair[best-1] = pairCost(best - 1)
		}
		if best < n-1 {
			pair[best] = pairCost(best)
		}
	}
	s.ngroups = n
	g := 0
	for c := range nc {
		if g+1 < n && first[g+1] == c {
			g++
		}
		s.group[c] = uint8(g)
	}
	for g := range nc {
		s.ghist[g] = gs[g].hist
	}
}

// writeTables3 builds and writes version 3's tables: run, interruption,
// then the class grouping and one table per group.
func (s *sink) writeTables3() {
	for t := range tabReg {
		s.b.build(&s.tabs[t], s.hist[t])
		writeTable(&s.w, &s.tabs[t], s.hist[t])
		s.remap[t] = uint8(t)
	}
	s.groupClasses()
	for c := 1; c < numClasses; c++ {
		s.w.write(uint32(s.group[c]-s.group[c-1]), 1)
	}
	for g := range s.ngroups {
		t := &s.tabs[tabReg+g]
		s.b.build(t, s.ghist[g])
		writeTable(&s.w, t, s.ghist[g])
	}
	for c := range numClasses {
		s.remap[tabReg+c] = uint8(tabReg) + s.group[c]
	}
}

// readTables3 reads what writeTables3 wrote; d.classTab then gives each
// class's table.
func (d *planeDecoder) readTables3() error {
	for t := range tabReg {
		n := int(d.regAlpha)
		if t == tabRun {
			n = runAlphabet
		}
		if err := d.tabs[t].read(&d.br, n); err != nil {
			return d.corrupt("code table %d: %v", t, err)
		}
	}
	g := 0
	d.classTab[0] = tabReg
	for c := 1; c < numClasses; c++ {
		g += int(d.br.read(1))
		d.classTab[c] = uint8(tabReg + g)
	}
	for t := tabReg; t <= tabReg+g; t++ {
		if err := d.tabs[t].read(&d.br, int(d.regAlpha)); err != nil {
			return d.corrupt("code table %d: %v", t, err)
		}
	}
	return nil
}
