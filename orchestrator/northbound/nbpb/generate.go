// Package nbpb is the generated code of northbound.proto, the gRPC API that
// fabricd serves over an orchestrator (package orchestrator/northbound) and
// that fabricctl speaks.
//
// The generated code is committed. To regenerate it, install protoc
// (Debian: apt-get install -y protobuf-compiler, 3.21.12), protoc-gen-go
// and protoc-gen-go-grpc:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
//
// then run `go generate ./orchestrator/northbound/nbpb/` from the module
// root, which runs, in this folder:
//
//	protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative northbound.proto
package nbpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative northbound.proto
