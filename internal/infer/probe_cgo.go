//go:build cgo

package infer

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// The few OrtApi entries needed to name the library's version and list its
// execution providers, which onnxruntime_go does not expose. OrtApi is a
// table of function pointers that ONNX Runtime only ever appends to (its ABI
// promise), so an entry's index never changes; the indices are those of
// onnxruntime_c_api.h.
typedef struct OrtStatus OrtStatus;
typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} probeApiBase;
typedef const probeApiBase *(*probeGetApiBase)(void);

enum { probeApiVersion = 24, idxGetErrorMessage = 2, idxReleaseStatus = 93,
       idxGetAvailableProviders = 125, idxReleaseAvailableProviders = 126 };

typedef const char *(*probeGetErrorMessage)(const OrtStatus *);
typedef void (*probeReleaseStatus)(OrtStatus *);
typedef OrtStatus *(*probeGetAvailableProviders)(char ***, int *);
typedef OrtStatus *(*probeReleaseAvailableProviders)(char **, int);

static void *probe_open(const char *path, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) *err = dlerror();
	return h;
}

static const probeApiBase *probe_base(void *h) {
	probeGetApiBase f = (probeGetApiBase)dlsym(h, "OrtGetApiBase");
	return f ? f() : NULL;
}

static const char *probe_version(const probeApiBase *b) { return b->GetVersionString(); }

static void *const *probe_api(const probeApiBase *b) { return (void *const *)b->GetApi(probeApiVersion); }

// probe_providers fills out/n; it returns an error message or NULL. The
// message is copied into msg (size cap) because the status is released here.
static int probe_providers(void *const *api, char ***out, int *n, char *msg, size_t cap) {
	OrtStatus *st = ((probeGetAvailableProviders)api[idxGetAvailableProviders])(out, n);
	if (!st) return 0;
	const char *m = ((probeGetErrorMessage)api[idxGetErrorMessage])(st);
	size_t i = 0;
	for (; m && m[i] && i + 1 < cap; i++) msg[i] = m[i];
	msg[i] = 0;
	((probeReleaseStatus)api[idxReleaseStatus])(st);
	return 1;
}

static void probe_release(void *const *api, char **p, int n) {
	OrtStatus *st = ((probeReleaseAvailableProviders)api[idxReleaseAvailableProviders])(p, n);
	if (st) ((probeReleaseStatus)api[idxReleaseStatus])(st);
}

static const char *probe_at(char **p, int i) { return p[i]; }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// libInfo is what the library says about itself.
type libInfo struct {
	handle    unsafe.Pointer
	version   string
	providers []string
}

// probe opens the library and reads its version and providers without
// touching onnxruntime_go, so a wrong file gives an error that names it and
// the version it holds rather than onnxruntime_go's generic failure.
func probe(path string) (*libInfo, error) {
	if err := checkELF(path); err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	h := C.probe_open(cpath, &cerr)
	if h == nil {
		return nil, fmt.Errorf("infer: load ONNX Runtime library %s: %s", path, C.GoString(cerr))
	}
	base := C.probe_base(h)
	if base == nil {
		C.dlclose(h)
		return nil, fmt.Errorf("infer: %s is not an ONNX Runtime library (no OrtGetApiBase)", path)
	}
	info := &libInfo{handle: h, version: C.GoString(C.probe_version(base))}
	api := C.probe_api(base)
	if api == nil {
		C.dlclose(h)
		return nil, fmt.Errorf("infer: ONNX Runtime library %s is version %s, which lacks C API %d; version 1.24 or later is needed (1.30.0 is the tested one)", path, info.version, C.probeApiVersion)
	}
	var (
		list **C.char
		n    C.int
		msg  [512]C.char
	)
	if C.probe_providers(api, &list, &n, &msg[0], C.size_t(len(msg))) != 0 {
		C.dlclose(h)
		return nil, fmt.Errorf("infer: ONNX Runtime %s (%s) cannot list its providers: %s", info.version, path, C.GoString(&msg[0]))
	}
	for i := 0; i < int(n); i++ {
		info.providers = append(info.providers, C.GoString(C.probe_at(list, C.int(i))))
	}
	C.probe_release(api, list, n)
	return info, nil
}

func (l *libInfo) close() {
	if l.handle != nil {
		C.dlclose(l.handle)
		l.handle = nil
	}
}
