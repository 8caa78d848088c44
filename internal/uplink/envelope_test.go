package uplink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

func TestSealOpenRoundTrip(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	for _, container := range []string{ContainerPNG, ContainerDICOM} {
		t.Run(container, func(t *testing.T) {
			c := testContents(1000, container)
			h := testHeader()
			env := mustSeal(t, h, c)
			gh, gc, err := Open(env, hub, trust, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if want := sealedHeader(t, h); gh != want {
				t.Errorf("header:\n got %+v\nwant %+v", gh, want)
			}
			if !reflect.DeepEqual(gc, c) {
				t.Errorf("contents differ:\n got %+v\nwant %+v", gc, c)
			}
			ph, err := PeekHeader(env)
			if err != nil {
				t.Fatal(err)
			}
			if ph != gh {
				t.Errorf("PeekHeader %+v, Open %+v", ph, gh)
			}
			if len(env) != 77+headerLen(env)+sealedLen(env) {
				t.Errorf("envelope is %d bytes, layout says %d", len(env), 77+headerLen(env)+sealedLen(env))
			}
		})
	}
}

func headerLen(env []byte) int { return int(binary.BigEndian.Uint32(env[5:])) }
func sealedLen(env []byte) int { return int(binary.BigEndian.Uint32(env[9+headerLen(env):])) }

func TestSealDrawsID(t *testing.T) {
	h := testHeader()
	h.ID = [16]byte{}
	rnd := bytes.NewReader(bytes.Repeat([]byte{7}, 16))
	env, err := Seal(h, testContents(10, ContainerPNG), testHubKey(t).Public(), testDeviceKey(t), rnd)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PeekHeader(env)
	if err != nil {
		t.Fatal(err)
	}
	if want := [16]byte(bytes.Repeat([]byte{7}, 16)); got.ID != want {
		t.Errorf("id %x, want %x from the reader", got.ID, want)
	}
}

func TestSealsDiffer(t *testing.T) {
	// HPKE draws a fresh ephemeral key each time: the same image sealed twice
	// must not give the same ciphertext.
	a := mustSeal(t, testHeader(), testContents(100, ContainerPNG))
	b := mustSeal(t, testHeader(), testContents(100, ContainerPNG))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same contents are identical")
	}
}

// TestOpenEveryBitFlip flips each bit of a small envelope in turn: every one
// must be refused.
func TestOpenEveryBitFlip(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	env := mustSeal(t, testHeader(), testContents(16, ContainerDICOM))
	if _, _, err := Open(env, hub, trust, Limits{}); err != nil {
		t.Fatal(err)
	}
	bad := make([]byte, len(env))
	classes := map[string]int{}
	for i := range 8 * len(env) {
		copy(bad, env)
		bad[i/8] ^= 1 << (i % 8)
		_, c, err := Open(bad, hub, trust, Limits{})
		if err == nil || c != nil {
			t.Fatalf("bit %d of byte %d flipped: opened without error", i%8, i/8)
		}
		classes[errClass(err)]++
	}
	t.Logf("%d bytes, %d flips: %v", len(env), 8*len(env), classes)
	// Flips in the sealed part and signature are caught by the signature.
	if classes["signature"] == 0 || classes["malformed"] == 0 {
		t.Errorf("error classes %v: want signature and malformed failures among them", classes)
	}
}

func errClass(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{ErrMalformed, "malformed"}, {ErrVersion, "version"}, {ErrTooLarge, "too large"},
		{ErrUnknownDevice, "unknown device"}, {ErrSignature, "signature"},
		{ErrNotForThisHub, "hub"}, {ErrContents, "contents"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "other: " + err.Error()
}

func TestOpenTruncatedAndExtended(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	env := mustSeal(t, testHeader(), testContents(16, ContainerPNG))
	for n := range len(env) {
		_, _, err := Open(env[:n], hub, trust, Limits{})
		if err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(env))
		}
		if n >= len(Magic)+1 && !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d bytes: %v, want ErrMalformed", n, err)
		}
		if _, err := PeekHeader(env[:n]); err == nil {
			t.Fatalf("PeekHeader of %d of %d bytes: no error", n, len(env))
		}
	}
	_, _, err := Open(append(env[:len(env):len(env)], 0), hub, trust, Limits{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "trailing data") {
		t.Fatalf("one byte appended: %v, want trailing data error", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	env := mustSeal(t, testHeader(), testContents(64, ContainerPNG))
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(env)
		f(b)
		return b
	}
	other := otherDeviceKey(t)
	tests := []struct {
		name  string
		env   []byte
		hub   HubPrivateKey
		trust Trust
		lim   Limits
		want  error
		msg   string
	}{
		{"wrong magic", edit(func(b []byte) { copy(b, "EDGF") }), hub, trust, Limits{}, ErrMalformed, `starts with "EDGF"`},
		{"future version", edit(func(b []byte) { b[4] = 2 }), hub, trust, Limits{}, ErrVersion, "version 2"},
		{"version zero", edit(func(b []byte) { b[4] = 0 }), hub, trust, Limits{}, ErrVersion, "version 0"},
		{"huge header length", edit(func(b []byte) { binary.BigEndian.PutUint32(b[5:], 1<<31) }), hub, trust, Limits{}, ErrMalformed, "header length 2147483648"},
		{"huge sealed length", edit(func(b []byte) { binary.BigEndian.PutUint32(b[9+headerLen(env):], 0xffffffff) }), hub, trust, Limits{}, ErrMalformed, "truncated"},
		{"oversized", env, hub, trust, Limits{MaxEnvelope: len(env) - 1}, ErrTooLarge, "limit"},
		{"body over limit", env, hub, trust, Limits{MaxBody: 63}, ErrContents, "body is 64 bytes"},
		{"unknown device", env, hub, TrustDevices(other.Public()), Limits{}, ErrUnknownDevice, dev.ID()},
		{"no devices", env, hub, Devices{}, Limits{}, ErrUnknownDevice, dev.ID()},
		{"corrupt signature", edit(func(b []byte) { b[len(b)-1] ^= 0x80 }), hub, trust, Limits{}, ErrSignature, "damaged or forged"},
		{"corrupt ciphertext", edit(func(b []byte) { b[len(b)-sigSize-1] ^= 1 }), hub, trust, Limits{}, ErrSignature, "damaged or forged"},
		{"wrong hub key", env, otherHubKey(t), trust, Limits{}, ErrNotForThisHub, otherHubKey(t).Fingerprint()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, c, err := Open(tc.env, tc.hub, tc.trust, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "uplink: ") {
				t.Errorf("error %q does not start with uplink: and say %q", err, tc.msg)
			}
			if c != nil || h != (Header{}) {
				t.Errorf("got contents or header alongside error")
			}
		})
	}
}

// TestOpenTrustMismatch: a trust store that maps an id to another device's
// key must not let that key speak for the id.
func TestOpenTrustMismatch(t *testing.T) {
	dev, other := testDeviceKey(t), otherDeviceKey(t)
	env := mustSeal(t, testHeader(), testContents(8, ContainerPNG))
	_, _, err := Open(env, testHubKey(t), Devices{dev.ID(): other.Public()}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "has id") {
		t.Fatalf("got %v, want a trusted-key id mismatch", err)
	}
}

// TestOpenForged covers envelopes a holder of a trusted device key could
// make by hand, which Seal never writes: the signature is good, so the later
// checks must hold on their own.
func TestOpenForged(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	h := sealedHeader(t, testHeader())
	good := marshalContents(t, testContents(32, ContainerPNG))

	// Claims this hub's key but is sealed to another one.
	misrouted := frame(t, marshalHeader(t, h), good, otherHubKey(t).Public(), dev)
	// Header with "created" as a 9-byte int64 where 1 byte would do.
	small := h
	small.Created = 5
	enc := marshalHeader(t, small)
	key := msgp.AppendString(nil, "created")
	idx := bytes.Index(enc, key) + len(key)
	if enc[idx] != 5 {
		t.Fatalf("created encoded as %#x, want fixint 5", enc[idx])
	}
	long := slices.Concat(enc[:idx], []byte{0xd3, 0, 0, 0, 0, 0, 0, 0, 5}, enc[idx+1:])
	// Contents with an extra key naming a patient.
	_, fields, err := msgp.ReadMapHeaderBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	extra := msgp.AppendMapHeader(nil, uint32(len(contentsKeys)+1))
	extra = append(extra, fields...)
	extra = msgp.AppendString(extra, "patient_name")
	extra = msgp.AppendString(extra, "DOE^JANE")
	// Contents with k_bio repeated in place of salt.
	repeated := bytes.Replace(good, msgp.AppendString(nil, "salt"), msgp.AppendString(nil, "k_bio"), 1)
	// Contents followed by one more value inside the seal.
	trailing := msgp.AppendNil(bytes.Clone(good))
	// Contents that break the field bounds.
	badGeom := testContents(32, ContainerPNG)
	badGeom.Width = 1 << 20
	badGeom.Height = 1 << 20
	notContents := msgp.AppendString(nil, "hello")

	tests := []struct {
		name string
		env  []byte
		want error
		msg  string
	}{
		{"sealed to another hub", misrouted, ErrNotForThisHub, ""},
		{"enc damaged, re-signed", resign(flip(mustSeal(t, testHeader(), testContents(32, ContainerPNG)), 13+len(marshalHeader(t, h))+1), dev), ErrNotForThisHub, ""},
		{"ciphertext damaged, re-signed", resign(flip(mustSeal(t, testHeader(), testContents(32, ContainerPNG)), -sigSize-3), dev), ErrNotForThisHub, ""},
		{"non-canonical header", frame(t, long, good, hub.Public(), dev), ErrMalformed, "canonical"},
		{"extra contents key", frame(t, marshalHeader(t, h), extra, hub.Public(), dev), ErrContents, "20 fields"},
		{"repeated contents key", frame(t, marshalHeader(t, h), repeated, hub.Public(), dev), ErrContents, `field 1 is "k_bio"`},
		{"trailing contents", frame(t, marshalHeader(t, h), trailing, hub.Public(), dev), ErrContents, "1 bytes after the object"},
		{"geometry", frame(t, marshalHeader(t, h), marshalContents(t, badGeom), hub.Public(), dev), ErrContents, "exceeds"},
		{"not a map", frame(t, marshalHeader(t, h), notContents, hub.Public(), dev), ErrContents, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c, err := Open(tc.env, hub, trust, Limits{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.msg)
			}
			if c != nil {
				t.Error("contents returned with an error")
			}
		})
	}
}

// flip returns env with one bit of byte i changed; i < 0 counts from the end.
func flip(env []byte, i int) []byte {
	if i < 0 {
		i += len(env)
	}
	env[i] ^= 0x10
	return env
}

func TestHeaderChecks(t *testing.T) {
	dev := testDeviceKey(t)
	good := sealedHeader(t, testHeader())
	tests := []struct {
		name string
		edit func(h *Header)
		msg  string
	}{
		{"format version", func(h *Header) { h.FormatVersion = 2 }, "format version 2"},
		{"zero id", func(h *Header) { h.ID = [16]byte{} }, "id is zero"},
		{"device id", func(h *Header) { h.DeviceID = "ABCDEF0123456789" }, "device id"},
		{"hub key id", func(h *Header) { h.HubKeyID = "0123" }, "hub key id"},
		{"created", func(h *Header) { h.Created = -1 }, "before 1970"},
		{"scheme", func(h *Header) { h.Scheme = "v2" }, `scheme "v2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := good
			tc.edit(&h)
			env := frame(t, marshalHeader(t, h), marshalContents(t, testContents(8, ContainerPNG)), testHubKey(t).Public(), dev)
			if _, err := PeekHeader(env); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("PeekHeader: %v, want ErrMalformed saying %q", err, tc.msg)
			}
		})
	}
	// Seal must refuse what Open would: here the one header field it does not set.
	h := testHeader()
	h.Scheme = "jpeg"
	if _, err := Seal(h, testContents(8, ContainerPNG), testHubKey(t).Public(), dev, nil); err == nil || !strings.Contains(err.Error(), `scheme "jpeg"`) {
		t.Fatalf("Seal with scheme jpeg: %v", err)
	}
}

func TestSealRefusesBadContents(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Contents)
		msg  string
	}{
		{"short k_bio", func(c *Contents) { c.KBio = c.KBio[:31] }, "k_bio is 31 bytes"},
		{"short salt", func(c *Contents) { c.Salt = c.Salt[:15] }, "salt is 15 bytes"},
		{"long salt", func(c *Contents) { c.Salt = make([]byte, 65) }, "salt is 65 bytes"},
		{"long clinician", func(c *Contents) { c.ClinicianID = strings.Repeat("x", 257) }, "clinician id is 257"},
		{"clinician not utf-8", func(c *Contents) { c.ClinicianID = "\xff" }, "not UTF-8"},
		{"no payload", func(c *Contents) { c.PayloadRef = nil }, "payload is 0 bytes"},
		{"payload bits too many", func(c *Contents) { c.PayloadBits = 8*len(c.PayloadRef) + 1 }, "bits in"},
		{"payload bits too few", func(c *Contents) { c.PayloadBits = 8 * (len(c.PayloadRef) - 1) }, "bits in"},
		{"empty body", func(c *Contents) { c.Body = nil }, "body is 0 bytes"},
		{"zero width", func(c *Contents) { c.Width = 0 }, "geometry 0×32"},
		{"negative frames", func(c *Contents) { c.Frames = -1 }, "-1 frames"},
		{"channels", func(c *Contents) { c.Channels = 2 }, "2 channels"},
		{"bits allocated", func(c *Contents) { c.BitsAllocated = 12 }, "12 bits allocated"},
		{"bits stored", func(c *Contents) { c.BitsStored = 17 }, "17 bits stored"},
		{"too many samples", func(c *Contents) { c.Width, c.Height, c.Frames = 1<<16, 1<<14, 2 }, "exceeds"},
		{"photometric", func(c *Contents) { c.Photometric = "YBR_FULL" }, `photometric "YBR_FULL"`},
		{"rgb with one channel", func(c *Contents) { c.Photometric = "RGB" }, "with 1 channels"},
		{"container", func(c *Contents) { c.ContainerFormat = "jpeg" }, `container format "jpeg"`},
		{"png with dicom data", func(c *Contents) { c.DICOMTail = []byte{1} }, "png image with"},
		{"dicom without data set", func(c *Contents) { c.ContainerFormat = ContainerDICOM }, "without its data set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testContents(8, ContainerPNG)
			tc.edit(c)
			_, err := Seal(testHeader(), c, testHubKey(t).Public(), testDeviceKey(t), nil)
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "uplink: seal: ") {
				t.Fatalf("got %v, want uplink: seal: … %q", err, tc.msg)
			}
		})
	}
}

func TestOpenDICOMLimit(t *testing.T) {
	c := testContents(8, ContainerDICOM)
	env := mustSeal(t, testHeader(), c)
	lim := Limits{MaxDICOM: len(c.DICOMHead) + len(c.DICOMTail) - 1}
	_, _, err := Open(env, testHubKey(t), TrustDevices(testDeviceKey(t).Public()), lim)
	if !errors.Is(err, ErrContents) || !strings.Contains(err.Error(), "dicom data set is 136 bytes") {
		t.Fatalf("got %v", err)
	}
}

func TestOpenSampleLimit(t *testing.T) {
	c := testContents(8, ContainerPNG)
	env := mustSeal(t, testHeader(), c)
	n := c.Width * c.Height * c.Frames * c.Channels
	trust := TrustDevices(testDeviceKey(t).Public())
	if _, _, err := Open(env, testHubKey(t), trust, Limits{MaxSamples: n}); err != nil {
		t.Fatalf("geometry at the limit refused: %v", err)
	}
	_, _, err := Open(env, testHubKey(t), trust, Limits{MaxSamples: n - 1})
	if !errors.Is(err, ErrContents) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("geometry past the limit: %v", err)
	}
}

func TestSealOpenZeroKeys(t *testing.T) {
	c := testContents(8, ContainerPNG)
	if _, err := Seal(testHeader(), c, HubPublicKey{}, testDeviceKey(t), nil); err == nil {
		t.Error("Seal with the zero hub key: no error")
	}
	if _, err := Seal(testHeader(), c, testHubKey(t).Public(), DeviceKey{}, nil); err == nil {
		t.Error("Seal with the zero device key: no error")
	}
	env := mustSeal(t, testHeader(), c)
	if _, _, err := Open(env, HubPrivateKey{}, Devices{}, Limits{}); err == nil {
		t.Error("Open with the zero hub key: no error")
	}
	if _, _, err := Open(env, testHubKey(t), nil, Limits{}); err == nil {
		t.Error("Open with nil trust: no error")
	}
}

// TestContentsKeys keeps the key list Open checks in step with the generated encoder.
func TestContentsKeys(t *testing.T) {
	if err := checkKeys(marshalContents(t, testContents(1, ContainerPNG)), contentsKeys[:]); err != nil {
		t.Fatal(err)
	}
	if n := reflect.TypeFor[Contents]().NumField(); n != len(contentsKeys) {
		t.Fatalf("Contents has %d fields, contentsKeys %d", n, len(contentsKeys))
	}
}

// TestHeaderSize: the largest header Seal can write fits MaxHeaderSize.
func TestHeaderSize(t *testing.T) {
	h := sealedHeader(t, testHeader())
	h.Created = 1<<63 - 1
	h.Scheme = SchemePaper
	if n := len(marshalHeader(t, h)); n > MaxHeaderSize {
		t.Fatalf("header is %d bytes, more than %d", n, MaxHeaderSize)
	}
}

func BenchmarkSeal1MiB(b *testing.B) {
	c := testContents(1<<20, ContainerPNG)
	hub, dev := testHubKey(b).Public(), testDeviceKey(b)
	h := testHeader()
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(h, c, hub, dev, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1MiB(b *testing.B) {
	env := mustSeal(b, testHeader(), testContents(1<<20, ContainerPNG))
	hub, trust := testHubKey(b), TrustDevices(testDeviceKey(b).Public())
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Open(env, hub, trust, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHostileLengthsBounded gives Open fields that declare 4 GiB lengths, in
// the unauthenticated header and in contents sealed and signed by a trusted
// device, and checks that what it allocates stays in proportion to its input.
func TestHostileLengthsBounded(t *testing.T) {
	hub, dev := testHubKey(t), testDeviceKey(t)
	trust := TrustDevices(dev.Public())
	h := sealedHeader(t, testHeader())

	huge := []byte{0xdb, 0xff, 0xff, 0xff, 0xff} // str32 of 4 GiB - 1
	hdr := msgp.AppendMapHeader(nil, 7)
	hdr = msgp.AppendString(hdr, "format_version")
	hdr = msgp.AppendUint8(hdr, Version)
	hdr = msgp.AppendString(hdr, "id")
	hdr = msgp.AppendBytes(hdr, h.ID[:])
	hdr = msgp.AppendString(hdr, "device_id")
	hdr = append(hdr, huge...)
	badHeader := frame(t, hdr, marshalContents(t, testContents(8, ContainerPNG)), hub.Public(), dev)

	plain := msgp.AppendMapHeader(nil, uint32(len(contentsKeys)))
	plain = msgp.AppendString(plain, "k_bio")
	plain = append(plain, 0xc6, 0xff, 0xff, 0xff, 0xff) // bin32 of 4 GiB - 1
	badContents := frame(t, marshalHeader(t, h), plain, hub.Public(), dev)

	huge31 := msgp.AppendMapHeader(nil, 1)
	huge31 = msgp.AppendString(huge31, "k_bio")
	huge31 = append(huge31, 0xc6, 0x80, 0, 0, 0) // 2 GiB: negative as a 32-bit int
	badContents31 := frame(t, marshalHeader(t, h), huge31, hub.Public(), dev)

	for name, tc := range map[string]struct {
		env  []byte
		want error
	}{
		"header":       {badHeader, ErrMalformed},
		"contents":     {badContents, ErrContents},
		"contents 2³¹": {badContents31, ErrContents},
	} {
		env := tc.env
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Open(env, hub, trust, Limits{})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", name, err, tc.want)
		}
		n := after.TotalAlloc - before.TotalAlloc
		if n > 64<<10 {
			t.Errorf("%s: Open of %d bytes allocated %d bytes (%v)", name, len(env), n, err)
		}
		t.Logf("%s: %d-byte envelope, %d bytes allocated: %v", name, len(env), n, err)
	}
}

func TestCheckMsgp(t *testing.T) {
	good := marshalContents(t, testContents(3, ContainerDICOM))
	if err := checkMsgp(good, 1); err != nil {
		t.Fatalf("Seal's contents: %v", err)
	}
	if err := checkMsgp(marshalHeader(t, sealedHeader(t, testHeader())), 1); err != nil {
		t.Fatalf("Seal's header: %v", err)
	}
	// Every scalar form, to check the walker's size table against msgp's encoder.
	var all []byte
	all = msgp.AppendArrayHeader(all, 20)
	all = msgp.AppendNil(all)
	all = msgp.AppendBool(all, true)
	all = msgp.AppendInt64(all, -1)
	all = msgp.AppendInt64(all, -100)
	all = msgp.AppendInt64(all, -1000)
	all = msgp.AppendInt64(all, -100000)
	all = msgp.AppendInt64(all, -1<<40)
	all = msgp.AppendUint64(all, 200)
	all = msgp.AppendUint64(all, 60000)
	all = msgp.AppendUint64(all, 1<<31)
	all = msgp.AppendUint64(all, 1<<40)
	all = msgp.AppendFloat32(all, 1.5)
	all = msgp.AppendFloat64(all, 1.5)
	all = msgp.AppendString(all, strings.Repeat("s", 40))
	all = msgp.AppendString(all, strings.Repeat("s", 300))
	all = msgp.AppendBytes(all, make([]byte, 70000))
	all = appendExt(t, all, 4)
	all = appendExt(t, all, 5)
	all = appendExt(t, all, 300)
	all = msgp.AppendMapHeader(all, 0)
	if err := checkMsgp(all, 1); err != nil {
		t.Fatalf("every scalar form: %v", err)
	}
	if _, err := msgp.Skip(all); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		msg  string
	}{
		{"empty", nil, "truncated at offset 0"},
		{"unused byte", []byte{0xc1}, "invalid type byte 0xc1"},
		{"str32 2³¹", []byte{0xdb, 0x80, 0, 0, 0}, "declares 2147483648 bytes"},
		{"bin32 4 GiB", []byte{0xc6, 0xff, 0xff, 0xff, 0xff, 0}, "declares 4294967295 bytes"},
		{"ext32 length wraps", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 1}, "declares 4294967296 bytes"},
		{"map32 huge", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0}, "declares 8589934590 elements"},
		{"short length", []byte{0xc5, 0}, "truncated length"},
		{"nested", []byte{0x91, 0x91, 0x00}, "nested too deep"},
		{"trailing", []byte{0x00, 0x00}, "1 bytes after"},
		{"map missing value", []byte{0x81, 0x00}, "declares 2 elements, 1 bytes left"},
		{"str cut short", []byte{0x92, 0xa3, 0x61, 0x00}, "declares 3 bytes, 2 left"},
	} {
		if err := checkMsgp(tc.b, 1); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
	}
}

func appendExt(t *testing.T, b []byte, n int) []byte {
	b, err := msgp.AppendExtension(b, &msgp.RawExtension{Type: 9, Data: make([]byte, n)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
