module edge

go 1.26.8

require (
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/suyashkumar/dicom v1.0.7 // indirect
	github.com/tinylib/msgp v1.6.5 // indirect
	github.com/yalue/onnxruntime_go v1.27.0 // indirect
	go.bug.st/serial v1.8.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/image v0.48.0 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	periph.io/x/conn/v3 v3.7.3 // indirect
	periph.io/x/host/v3 v3.8.5 // indirect
)

tool github.com/tinylib/msgp
