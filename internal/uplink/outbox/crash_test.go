package outbox

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"edge/internal/testenv"
	"edge/internal/uplink"
	"edge/internal/uplink/uplinktest"
)

const crashChildEnv = "EDGE_OUTBOX_CRASH_CHILD"

// TestMain is the process TestKill9 kills when it is started with
// crashChildEnv set, and runs the tests otherwise.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
	}
	os.Exit(m.Run())
}

// crashChild enqueues and acks without end and says on stdout what each
// call returned, after it returned.
func crashChild(dir string) {
	ctx := context.Background()
	o, err := Open(dir, Options{MaxCount: 40})
	if err != nil {
		fmt.Println("X", err)
		os.Exit(3)
	}
	hk, err := uplinktest.HubKeyErr("crash")
	if err != nil {
		fmt.Println("X", err)
		os.Exit(3)
	}
	hub := hk.Public()
	dev, err := uplinktest.DeviceKeyErr("crash")
	if err != nil {
		fmt.Println("X", err)
		os.Exit(3)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	for {
		if r.IntN(10) < 6 {
			env, err := uplinktest.SealErr(hub, dev, 1+r.IntN(256<<10), nil)
			if err != nil {
				fmt.Println("X", err)
				os.Exit(3)
			}
			e, err := o.Enqueue(ctx, env)
			switch {
			case errors.Is(err, ErrFull):
				fmt.Println("F")
				continue
			case err != nil:
				fmt.Println("X", err)
				os.Exit(3)
			}
			sum := sha256.Sum256(env)
			fmt.Println("E", e.IDHex(), hex.EncodeToString(sum[:]))
			continue
		}
		es, err := o.Entries()
		if err != nil {
			fmt.Println("X", err)
			os.Exit(3)
		}
		if len(es) == 0 {
			continue
		}
		e := es[0]
		if e.UploadURL == "" {
			if err := o.SetUploadURL(ctx, e, "https://hub.invalid/files/"+e.IDHex()); err != nil {
				fmt.Println("X", err)
				os.Exit(3)
			}
			fmt.Println("U", e.IDHex())
			continue
		}
		fmt.Println("a", e.IDHex())
		if r.IntN(4) == 0 {
			err = o.Reject(ctx, e, "test rejection")
		} else {
			err = o.Ack(ctx, e)
		}
		if err != nil {
			fmt.Println("X", err)
			os.Exit(3)
		}
		fmt.Println("A", e.IDHex())
	}
}

// TestKill9 kills a process that enqueues and acks at random moments, many
// times over the same outbox, and checks after each kill that every envelope
// reported queued is there whole, every one reported acked is gone, and
// nothing listed is a partial or damaged file.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 30 times")
	}
	dir := t.TempDir()
	hub := uplinktest.HubKey(t, "crash")
	trust := uplink.TrustDevices(uplinktest.DeviceKey(t, "crash").Public())
	queued := map[string]string{} // id → sha256 of the envelope, as reported
	acked := map[string]bool{}
	urls := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	kills, sawFull := 0, false
	for round := 0; round < 30; round++ {
		cmd, err := testenv.SelfCommand()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// The kill lands at a random moment after the child has started
		// working: under an emulator starting takes longer than the window.
		var got []string
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the child said nothing for 2 minutes")
		}
		time.Sleep(time.Duration(20+r.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for l := range lines {
			got = append(got, l)
		}
		for _, l := range got {
			f := strings.Fields(l)
			switch f[0] {
			case "E":
				queued[f[1]] = f[2]
				delete(acked, f[1])
			case "A":
				acked[f[1]] = true
				delete(queued, f[1])
			case "a":
				// The ack may complete before the kill lands and the
				// child says so: from here the entry may be gone.
				delete(queued, f[1])
			case "U":
				urls[f[1]] = true
			case "F":
				sawFull = true
			default:
				t.Fatalf("child: %s", l)
			}
		}
		cmd.Wait()
		kills++
		checkAfterKill(t, dir, hub, trust, queued, acked, urls)
	}
	t.Logf("%d kills, %d envelopes queued at the end, %d acked, quota hit: %v", kills, len(queued), len(acked), sawFull)
	if len(acked) == 0 || len(queued) == 0 {
		t.Fatalf("the child neither queued nor acked enough to test anything: %d queued, %d acked", len(queued), len(acked))
	}
}

func checkAfterKill(t *testing.T, dir string, hub uplink.HubPrivateKey, trust uplink.Trust, queued map[string]string, acked, urls map[string]bool) {
	t.Helper()
	o, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	es, err := o.Entries()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]Entry{}
	for _, e := range es {
		have[e.IDHex()] = e
		b, err := o.Read(e)
		if err != nil {
			t.Fatalf("entry %s after kill: %v", e.Name, err)
		}
		// Open checks the signature over every byte: a torn or mixed file fails.
		if _, _, err := uplink.Open(b, hub, trust, uplink.Limits{}); err != nil {
			t.Fatalf("entry %s after kill does not open: %v", e.Name, err)
		}
		if want, ok := queued[e.IDHex()]; ok {
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
				t.Fatalf("entry %s holds other bytes than were enqueued", e.Name)
			}
		}
		if acked[e.IDHex()] {
			t.Fatalf("entry %s is back after its ack returned", e.Name)
		}
		if urls[e.IDHex()] && e.UploadURL == "" {
			t.Fatalf("entry %s lost its upload URL", e.Name)
		}
	}
	for id := range queued {
		if _, ok := have[id]; !ok {
			all, _ := filepath.Glob(filepath.Join(dir, "*", "*"+id+"*"))
			t.Fatalf("envelope %s reported queued is lost; files: %v", id, all)
		}
	}
	// Rejected envelopes are whole too.
	rej, _ := filepath.Glob(filepath.Join(dir, rejectedDir, "*"+envExt))
	for _, p := range rej {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := uplink.Open(b, hub, trust, uplink.Limits{}); err != nil {
			t.Fatalf("rejected %s does not open: %v", p, err)
		}
	}
}
