package roleconfig

// The generated code is committed. To regenerate it, install protoc
// (Debian: apt-get install -y protobuf-compiler) and protoc-gen-go
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12), then
// run `go generate ./p4/roleconfig/` from the module root, which runs, in
// this folder:
//
//	protoc --go_out=. --go_opt=paths=source_relative p4_role_config.proto

//go:generate protoc --go_out=. --go_opt=paths=source_relative p4_role_config.proto
