package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/p4fabric/fabric/internal/certs"
	"github.com/p4fabric/fabric/orchestrator/store/etcd"
)

// etcdPasswordEnv holds the etcd password when --etcd-password-file is not
// given: the way container platforms hand out secrets. Unlike a flag, the
// environment of a process is not readable by other users.
const etcdPasswordEnv = "FABRIC_ETCD_PASSWORD"

// etcdOnly are the flags that configure the etcd connection: meaningless,
// and so refused, without --etcd.
var etcdOnly = []string{"etcd-ca", "etcd-cert", "etcd-key", "etcd-user", "etcd-password-file",
	"etcd-namespace", "etcd-dial-timeout"}

// checkEtcdFlags refuses etcd settings that cannot work, naming the flag,
// before anything is read or opened. set holds the flags given.
func checkEtcdFlags(c *config, set map[string]bool) error {
	if c.etcd == "" {
		for _, name := range etcdOnly {
			if set[name] {
				return fmt.Errorf("--%s configures the etcd store: it needs --etcd", name)
			}
		}
		return nil
	}
	switch {
	case (c.etcdCert == "") != (c.etcdKey == ""):
		return errors.New("--etcd-cert and --etcd-key: give both (the client certificate and its key) or neither")
	case c.etcdPasswordFile != "" && c.etcdUser == "":
		return errors.New("--etcd-password-file needs --etcd-user")
	case c.etcdUser != "" && c.etcdPasswordFile == "" && os.Getenv(etcdPasswordEnv) == "":
		return fmt.Errorf("--etcd-user %s needs a password: give --etcd-password-file (or set $%s)", c.etcdUser, etcdPasswordEnv)
	case c.etcdDialTimeout <= 0:
		return fmt.Errorf("--etcd-dial-timeout %v: must be positive", c.etcdDialTimeout)
	// A namespace is a bare key prefix: "/a" would also hold the keys of
	// "/ab", so that two chassis would see each other's boxes.
	case c.etcdNamespace != "" && !strings.HasSuffix(c.etcdNamespace, "/"):
		return fmt.Errorf("--etcd-namespace %q: must end with / (or the namespace %q would overlap it)",
			c.etcdNamespace, c.etcdNamespace+"x/")
	}
	if c.etcdTLS() {
		// The etcd client drops TLS for an http:// endpoint whatever its
		// configuration says: refuse rather than send credentials in clear.
		for _, ep := range etcdEndpoints(c.etcd) {
			if strings.HasPrefix(strings.ToLower(ep), "http://") {
				return fmt.Errorf("--etcd endpoint %s is plaintext (http://) but --etcd-ca/--etcd-cert ask for TLS: "+
					"give host:port or https://host:port", ep)
			}
		}
	}
	return nil
}

// etcdTLS reports whether a TLS flag was given (an https:// endpoint also
// connects over TLS, trusting the system's CAs).
func (c *config) etcdTLS() bool { return c.etcdCA != "" || c.etcdCert != "" }

// etcdEndpoints splits --etcd into endpoints, ignoring empty ones.
func etcdEndpoints(flag string) []string {
	var eps []string
	for _, ep := range strings.Split(flag, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// etcdOptions reads the files the etcd flags name and returns the store's
// options, and how it connects in words, for logs and errors (never the
// password).
func etcdOptions(c *config, log *slog.Logger) ([]etcd.Option, string, error) {
	opts := []etcd.Option{etcd.WithLogger(log), etcd.WithDialTimeout(c.etcdDialTimeout)}
	var how []string
	if c.etcdTLS() {
		// The same loader as --box-ca: one place reads PEM files.
		tc, err := certs.LoadClientConfig(c.etcdCA, c.etcdCert, c.etcdKey)
		if err != nil {
			return nil, "", fmt.Errorf("--etcd-ca/--etcd-cert/--etcd-key: %w", err)
		}
		opts = append(opts, etcd.WithTLS(tc))
		if c.etcdCert != "" {
			how = append(how, "mutual TLS")
		} else {
			how = append(how, "TLS")
		}
	} else if strings.HasPrefix(strings.ToLower(c.etcd), "https://") {
		how = append(how, "TLS trusting the system's CAs")
	} else {
		how = append(how, "plaintext")
	}
	if c.etcdUser != "" {
		pw, err := etcdPassword(c.etcdPasswordFile)
		if err != nil {
			return nil, "", err
		}
		opts = append(opts, etcd.WithCredentials(c.etcdUser, pw))
		how = append(how, "user "+c.etcdUser)
	}
	if c.etcdNamespace != "" {
		opts = append(opts, etcd.WithNamespace(c.etcdNamespace))
		how = append(how, "namespace "+c.etcdNamespace)
	}
	return opts, strings.Join(how, ", "), nil
}

// etcdPassword reads the password from file, or from $FABRIC_ETCD_PASSWORD
// when file is empty. The line end an editor or echo leaves is not part of
// it; any other byte is.
func etcdPassword(file string) (string, error) {
	if file == "" {
		pw := os.Getenv(etcdPasswordEnv)
		if pw == "" {
			return "", fmt.Errorf("--etcd-user: $%s is empty", etcdPasswordEnv)
		}
		return pw, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--etcd-password-file: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("--etcd-password-file %s: empty", file)
	}
	return pw, nil
}
