package certs_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"time"

	"github.com/p4fabric/fabric/internal/certs"
)

// A mutual TLS connection over loopback with certificates made on the spot.
func Example() {
	ca, err := certs.NewCA()
	if err != nil {
		fmt.Println(err)
		return
	}
	serverCert, err := ca.Issue("leaf1", "leaf1.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	clientCert, err := ca.Issue("fabricctl")
	if err != nil {
		fmt.Println(err)
		return
	}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", certs.ServerConfig(serverCert, ca.Pool()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		peer := "?"
		if err := conn.(*tls.Conn).Handshake(); err == nil {
			peer = conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(conn, "hello %s\n", peer)
	}()

	conn, err := tls.Dial("tcp", ln.Addr().String(), certs.ClientConfig(ca.Pool(), &clientCert))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg, _ := io.ReadAll(conn)
	fmt.Print(string(msg))
	fmt.Println("server is", conn.ConnectionState().PeerCertificates[0].Subject.CommonName)
	// Output:
	// hello fabricctl
	// server is leaf1
}
