package tus

import (
	"crypto/tls"
	"time"

	"edge/internal/uplink"
)

func tlsCert() tls.Certificate {
	k, _ := uplink.NewDeviceKey(make([]byte, 32))
	c, _ := k.TLSCertificate(time.Now())
	return c
}
