package oci

import (
	"fmt"
	"io/fs"
	"os"
)

// The user the images run as, like distroless's nonroot: not root, with
// a fixed number so that volumes can be prepared for it.
const (
	UserName = "fnrun"
	UserID   = 65532
	HomeDir  = "/home/fnrun"
)

// CACertsPath is where the base layer puts the host's CA bundle (the path
// Go's crypto/x509 reads first on Linux; SSL_CERT_FILE names it too).
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// caCandidates are the host paths of a CA bundle, Debian's first.
var caCandidates = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // RHEL 7+
	"/etc/ssl/cert.pem",                                 // macOS, the BSDs
}

// FindCACerts returns the host's CA bundle, or "" when there is none.
func FindCACerts() string {
	for _, p := range caCandidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// BaseLayer is the first layer of every image: /etc/passwd and /etc/group
// with root and the user fnrun (UserID), its home directory, /tmp (1777)
// and, when caCerts names a host file, the CA bundle at CACertsPath.
func BaseLayer(caCerts string) Layer {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UserID, UserID, UserName, HomeDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UserID)
	files := []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte(passwd)},
		{Path: "/etc/group", Mode: 0o644, Data: []byte(group)},
		{Path: "/root", Mode: fs.ModeDir | 0o700},
		{Path: HomeDir, Mode: fs.ModeDir | 0o700, UID: UserID, GID: UserID},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}
	if caCerts != "" {
		files = append(files, File{Path: CACertsPath, Mode: 0o644, From: caCerts})
	}
	return Layer{CreatedBy: "fnrun image: base (users, /tmp, CA certificates)", Files: files}
}
